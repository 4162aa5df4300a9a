import Synchronization

/// A product's output rows shared among a pool's threads so that each thread reads its weights as one stream.
///
/// The rows are cut into one contiguous part per thread, in tiles of 16 rows. The thread that takes part `p`
/// works through it from the front, each claim half of what is left of it and right after the last, so the
/// hardware prefetchers follow a single stream from the part's start to its end. A thread whose part is done
/// takes, from the back of another's part, half of what is left of it, so the threads still finish within a tile
/// of each other, and the part of a thread the scheduler started late is shared rather than waited for.
///
/// Each part's claims live in one atomic word: the first tile left (low 32 bits) and the end of what is left
/// (high 32 bits). Owners and others move them towards each other with compare-exchange, so every tile is
/// claimed exactly once.
final class RowParts: @unchecked Sendable {
    /// Rows per tile: every range starts on a multiple of it (and ends on one, but at the last row).
    static let tileRows = 16

    let rows: Int
    let partCount: Int
    private let tileCount: Int
    private let claims: UnsafeMutablePointer<Atomic<Int>>

    /// - Parameter work: multiply-adds in the whole product; a small product is one part, run on the calling
    ///   thread, because waking workers would cost more than it saves.
    init(rows: Int, work: Int, threads: Int) {
        self.rows = rows
        tileCount = (rows + Self.tileRows - 1) / Self.tileRows
        partCount = threads == 1 || work < 1 << 15 ? 1 : max(1, min(threads, tileCount))
        claims = .allocate(capacity: partCount)
        for part in 0..<partCount {
            let tiles = self.tiles(of: part)
            (claims + part).initialize(to: Atomic(Self.pack(front: tiles.lowerBound, back: tiles.upperBound)))
        }
    }

    deinit {
        claims.deinitialize(count: partCount)
        claims.deallocate()
    }

    /// The rows of each part but the first, as they were cut: the thread that takes one starts reading at its front.
    var laterParts: [Range<Int>] {
        (1..<partCount).map { rows(of: tiles(of: $0)) }
    }

    /// The tiles part `part` is cut to: an equal share of them, in order.
    private func tiles(of part: Int) -> Range<Int> {
        (tileCount * part / partCount)..<(tileCount * (part + 1) / partCount)
    }

    /// The rows of `tiles` (the last tile may be short).
    private func rows(of tiles: Range<Int>) -> Range<Int> {
        (tiles.lowerBound * Self.tileRows)..<min(tiles.upperBound * Self.tileRows, rows)
    }

    /// Runs `body` on ranges of rows that cover `0 ..< rows` once, across `pool`'s threads, and returns when all
    /// have run; then the workers read `leads` ahead (`ComputePool.parallelFor(_:thenReadAhead:_:)`).
    func run(_ pool: ComputePool, thenReadAhead leads: ProductSchedule.Leads? = nil, _ body: (Range<Int>) -> Void) {
        if partCount == 1 { return body(0..<rows) }
        pool.parallelFor(partCount, thenReadAhead: leads) { part in
            while let range = claim(part, fromFront: true) { body(range) }
            for offset in 1..<partCount {
                while let range = claim((part + offset) % partCount, fromFront: false) { body(range) }
            }
        }
    }

    /// Half of what is left of part `part` (at least a tile), from its front or its back; nil when nothing is.
    func claim(_ part: Int, fromFront: Bool) -> Range<Int>? {
        var word = claims[part].load(ordering: .relaxed)
        while true {
            let (front, back) = Self.unpack(word)
            if front >= back { return nil }
            let count = max(1, (back - front) / 2)
            let tiles = fromFront ? front..<(front + count) : (back - count)..<back
            let desired = fromFront ? Self.pack(front: tiles.upperBound, back: back) : Self.pack(front: front, back: tiles.lowerBound)
            let (exchanged, original) = claims[part].compareExchange(expected: word, desired: desired, ordering: .relaxed)
            if exchanged { return rows(of: tiles) }
            word = original
        }
    }

    private static func pack(front: Int, back: Int) -> Int { back << 32 | front }
    private static func unpack(_ word: Int) -> (front: Int, back: Int) { (word & 0xFFFF_FFFF, word >> 32) }
}
