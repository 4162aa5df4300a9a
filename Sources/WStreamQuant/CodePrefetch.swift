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
    /// activations out of L1 between two uses: the tile kernel's wide tiles on AMD (see `TilePrefetch`).
    @inline(__always)
    static func aheadNonTemporal(_ codes: UnsafeRawPointer) { wstream_prefetch_nta(codes + distance) }

    /// The line holding `address` into L2 (`prefetcht2`): a worker reading ahead into the next product.
    @inline(__always)
    static func intoSecondLevel(_ address: UnsafeRawPointer) { wstream_prefetch_l2(address) }

    /// The line `TilePrefetch.everyTileDistance` ahead into every cache level, and the line
    /// `TilePrefetch.secondLevelDistance` ahead into L2: the tile kernel on Intel.
    @inline(__always)
    static func farAhead(_ codes: UnsafeRawPointer) {
        wstream_prefetch(codes + TilePrefetch.everyTileDistance)
        wstream_prefetch_l2(codes + TilePrefetch.secondLevelDistance)
    }
}

/// Which code lines the tile kernel (`VNNITileKernel`) asks for ahead of its loads, by CPU maker.
///
/// The two makers' cores want opposite things, each measured on its own (docs/ARCHITECTURE.md, Kernels). On an
/// AMD EPYC (Zen 4) the hardware prefetchers keep a tile's stream fed alone; a `prefetcht0` on every load slowed
/// the 2048-column tiles by 3 %, while the 8192-column tiles read 8 % faster with a non-temporal one. On an Intel
/// Xeon (Emerald Rapids), whose cores read memory at half a Zen 4 core's rate (14 against 28 GB/s on one thread),
/// the tiles read 55–70 % of the probe without a prefetch and 85–93 % on two threads with a `prefetcht0` 4 KiB
/// ahead on every load; 2 KiB gained less and 8 KiB no more. A `prefetcht0` holds one of L1's fill buffers until
/// memory answers, so those alone bound how many lines a core has in flight; a second prefetch 24 KiB ahead into
/// L2 only (`prefetcht2`) adds requests that do not: the decode products took 11 % less time (docs/ARCHITECTURE.md,
/// Kernels), where 12 and 64 KiB gained a little less and `prefetcht1` the same.
public enum TilePrefetch: Sendable, CustomStringConvertible {
    /// A non-temporal prefetch `CodePrefetch.distance` ahead, on tiles of over 2048 columns only.
    case nonTemporalOnWideTiles
    /// A `prefetcht0` `everyTileDistance` ahead and a `prefetcht2` `secondLevelDistance` ahead, on every tile.
    case everyTile

    /// How far ahead `everyTile` asks into every cache level.
    public static let everyTileDistance = 4096

    /// How far ahead `everyTile` also asks into L2.
    public static let secondLevelDistance = 24576

    /// This machine's: `everyTile` on Intel, `nonTemporalOnWideTiles` elsewhere.
    public static let native: TilePrefetch = CPUVendor.current == .intel ? .everyTile : .nonTemporalOnWideTiles

    public var description: String {
        switch self {
        case .nonTemporalOnWideTiles: "non-temporal, \(CodePrefetch.distance / 1024) KiB ahead, on tiles over 2048 columns"
        case .everyTile: "every tile, \(Self.everyTileDistance / 1024) KiB ahead into L1 and \(Self.secondLevelDistance / 1024) KiB into L2"
        }
    }
}
