#include "memory_stats.hpp"

namespace akamu::bench::memory {

constinit Counters g_counters{};
constinit bool g_enabled = false;
constinit bool g_openssl_counted = false;
constinit bool g_sqlite_counted = false;

}  // namespace akamu::bench::memory
