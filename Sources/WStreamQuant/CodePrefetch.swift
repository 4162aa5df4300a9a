import CPrefetch

/// A software prefetch of the code stream the row kernels read, a fixed distance ahead.
///
/// A decode product streams each row's codes once, one load after another, and the hardware prefetchers alone
/// left the loads waiting on memory (`perf annotate`: most samples on the instructions after each code load).
/// Asking for the line 2 KiB ahead, two 2048-column 4-bit rows, cut a decode pass over LFM2-1.2B's matrices by
/// 8 % on one thread and 10 % on two (`bench --kernels`, AVX-512 VNNI; 1 and 4 KiB gained less). A prefetch past
/// the matrix's end is harmless: it never faults and its result is never read.
enum CodePrefetch {
    static let distance = 2048

    @inline(__always)
    static func ahead(_ codes: UnsafeRawPointer) { wstream_prefetch(codes + distance) }

    /// The line `distance` ahead as non-temporal data (`prefetchnta`), for a code stream long enough to push the
    /// activations out of L1 between two uses: the tile kernel's wide tiles (see `VNNITileKernel`).
    @inline(__always)
    static func aheadNonTemporal(_ codes: UnsafeRawPointer) { wstream_prefetch_nta(codes + distance) }
}
