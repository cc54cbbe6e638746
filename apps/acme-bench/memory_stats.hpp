#pragma once
// Process-wide heap counters filled by the counting allocator (counting_allocator.cpp, linked
// into the acme-bench binary only). Without it linked, every figure stays zero and enabled()
// says so; the report then omits nothing but the numbers are meaningless.
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace akamu::bench::memory {

struct alignas(64) Counters {
  std::atomic<std::int64_t> live_bytes{0};       // usable bytes currently allocated
  std::atomic<std::int64_t> peak_live_bytes{0};  // highest live_bytes since resetPeak()
  std::atomic<std::uint64_t> alloc_bytes{0};     // cumulative requested bytes
  std::atomic<std::uint64_t> alloc_count{0};     // cumulative allocation calls
};

extern Counters g_counters;

// Set by the counting allocator at load time.
extern bool g_enabled;
// Whether OpenSSL's / SQLite's allocations go through the counters (their hooks must be
// installed before the library allocates anything).
extern bool g_openssl_counted;
extern bool g_sqlite_counted;

inline void onAlloc(std::size_t requested, std::size_t usable) {
  g_counters.alloc_bytes.fetch_add(requested, std::memory_order_relaxed);
  g_counters.alloc_count.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t live = g_counters.live_bytes.fetch_add(static_cast<std::int64_t>(usable),
                                                            std::memory_order_relaxed) +
                            static_cast<std::int64_t>(usable);
  std::int64_t peak = g_counters.peak_live_bytes.load(std::memory_order_relaxed);
  while (live > peak &&
         !g_counters.peak_live_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
}

inline void onFree(std::size_t usable) {
  g_counters.live_bytes.fetch_sub(static_cast<std::int64_t>(usable), std::memory_order_relaxed);
}

struct Snapshot {
  std::int64_t live_bytes = 0;
  std::int64_t peak_live_bytes = 0;
  std::uint64_t alloc_bytes = 0;
  std::uint64_t alloc_count = 0;
};

inline Snapshot snapshot() {
  return Snapshot{g_counters.live_bytes.load(std::memory_order_relaxed),
                  g_counters.peak_live_bytes.load(std::memory_order_relaxed),
                  g_counters.alloc_bytes.load(std::memory_order_relaxed),
                  g_counters.alloc_count.load(std::memory_order_relaxed)};
}

// Peak := current live bytes (called right before the issuance window opens).
inline void resetPeak() {
  g_counters.peak_live_bytes.store(g_counters.live_bytes.load(std::memory_order_relaxed),
                                   std::memory_order_relaxed);
}

}  // namespace akamu::bench::memory
