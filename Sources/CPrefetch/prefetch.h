#ifndef WSTREAM_PREFETCH_H
#define WSTREAM_PREFETCH_H

/// Asks for the cache line holding `address` in every cache level (`prefetcht0`), without waiting for it.
/// Swift has no prefetch of its own, and clang's `_mm_prefetch` is a macro Swift cannot import.
static inline void wstream_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Asks for the cache line holding `address` as non-temporal data (`prefetchnta`): into L1, where it is the first
/// line to leave, so a stream read once does not push out what the loop reads again.
static inline void wstream_prefetch_nta(const void *address) { __builtin_prefetch(address, 0, 0); }

/// Asks for the cache line holding `address` into L2 but not L1 (`prefetcht2`): far enough ahead, it lets a core
/// keep more lines in flight than L1's fill buffers, which a `prefetcht0` holds until memory answers.
static inline void wstream_prefetch_l2(const void *address) { __builtin_prefetch(address, 0, 1); }

#endif
