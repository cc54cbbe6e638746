// The counting global allocator of acme-bench: every form of operator new/delete (plain, array,
// nothrow, aligned, sized), OpenSSL's allocator (CRYPTO_set_mem_functions) and SQLite's
// (SQLITE_CONFIG_MALLOC) go to glibc malloc and update memory_stats.hpp's counters with relaxed
// atomics. Live bytes are usable sizes (malloc_usable_size), so frees need no header and every
// pointer stays a plain malloc pointer; cumulative bytes are the sizes requested.
//
// Linked into the acme-bench executable only (never into a library or a test binary).
#include <malloc.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <cstdlib>
#include <new>

#include "memory_stats.hpp"

namespace {

namespace mem = akamu::bench::memory;

inline void* countedMalloc(std::size_t n) {
  void* p = std::malloc(n);
  if (p != nullptr) mem::onAlloc(n, malloc_usable_size(p));
  return p;
}

inline void* countedAligned(std::size_t n, std::size_t align) {
  if (align < sizeof(void*)) align = sizeof(void*);
  void* p = nullptr;
  if (posix_memalign(&p, align, n == 0 ? 1 : n) != 0) return nullptr;
  mem::onAlloc(n, malloc_usable_size(p));
  return p;
}

inline void countedFree(void* p) {
  if (p == nullptr) return;
  mem::onFree(malloc_usable_size(p));
  std::free(p);
}

inline void* countedRealloc(void* p, std::size_t n) {
  if (p == nullptr) return countedMalloc(n);
  if (n == 0) {
    countedFree(p);
    return nullptr;
  }
  const std::size_t old_usable = malloc_usable_size(p);
  void* q = std::realloc(p, n);
  if (q == nullptr) return nullptr;  // p untouched
  mem::onFree(old_usable);
  mem::onAlloc(n, malloc_usable_size(q));
  return q;
}

void* newOrThrow(std::size_t n) {
  if (n == 0) n = 1;
  for (;;) {
    if (void* p = countedMalloc(n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* newAlignedOrThrow(std::size_t n, std::align_val_t align) {
  for (;;) {
    if (void* p = countedAligned(n, static_cast<std::size_t>(align))) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

// OpenSSL's hooks. CRYPTO_malloc returns NULL for 0 bytes by default; we keep that.
void* opensslMalloc(std::size_t n, const char*, int) { return n == 0 ? nullptr : countedMalloc(n); }
void* opensslRealloc(void* p, std::size_t n, const char*, int) { return countedRealloc(p, n); }
void opensslFree(void* p, const char*, int) { countedFree(p); }

// SQLite's hooks.
void* sqliteMalloc(int n) { return n <= 0 ? nullptr : countedMalloc(static_cast<std::size_t>(n)); }
void sqliteFree(void* p) { countedFree(p); }
void* sqliteRealloc(void* p, int n) {
  return countedRealloc(p, n <= 0 ? 0 : static_cast<std::size_t>(n));
}
int sqliteSize(void* p) { return p == nullptr ? 0 : static_cast<int>(malloc_usable_size(p)); }
int sqliteRoundup(int n) { return (n + 7) & ~7; }
int sqliteInit(void*) { return SQLITE_OK; }
void sqliteShutdown(void*) {}

// Runs before main and before any other static initializer of this binary: OpenSSL refuses new
// memory functions once it has allocated anything.
__attribute__((constructor(101))) void installHooks() {
  mem::g_enabled = true;
  mem::g_openssl_counted =
      CRYPTO_set_mem_functions(opensslMalloc, opensslRealloc, opensslFree) == 1;
  static const sqlite3_mem_methods methods = {sqliteMalloc,  sqliteFree, sqliteRealloc,  sqliteSize,
                                              sqliteRoundup, sqliteInit, sqliteShutdown, nullptr};
  mem::g_sqlite_counted = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK;
}

}  // namespace

void* operator new(std::size_t n) { return newOrThrow(n); }
void* operator new[](std::size_t n) { return newOrThrow(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return newOrThrow(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return newOrThrow(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return newAlignedOrThrow(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return newAlignedOrThrow(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return newAlignedOrThrow(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return newAlignedOrThrow(n, a);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { countedFree(p); }
void operator delete[](void* p) noexcept { countedFree(p); }
void operator delete(void* p, std::size_t) noexcept { countedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { countedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { countedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { countedFree(p); }
void operator delete(void* p, std::align_val_t) noexcept { countedFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { countedFree(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { countedFree(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { countedFree(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { countedFree(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  countedFree(p);
}
