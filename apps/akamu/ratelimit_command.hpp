#pragma once
// `akamu ratelimit override set|list|remove`, `akamu ratelimit pauses list`,
// `akamu ratelimit unpause`: the operator's per-account rate limits and pauses (RFC 8555
// §6.6, docs/operations.md "Rate limits"). Works directly on the configured store; a running
// server sees a change within [rate_limits] override_cache_secs (pauses at once).
#include <CLI/CLI.hpp>
#include <functional>

namespace akamu::cli {

// Adds the `ratelimit` subcommand to `app`; the returned function runs it when it was parsed
// (exit status), else returns -1.
std::function<int()> addRateLimitCommand(CLI::App& app);

}  // namespace akamu::cli
