#pragma once
// `akamu incident add|list|remove`: the operator's way to ask for early renewal (RFC 9773
// §4.2). Works directly on the configured store, with or without a server running.
#include <CLI/CLI.hpp>
#include <functional>

namespace akamu::cli {

// Adds the `incident` subcommand to `app`; the returned function runs it when it was parsed
// (exit status), else returns -1.
std::function<int()> addIncidentCommand(CLI::App& app);

}  // namespace akamu::cli
