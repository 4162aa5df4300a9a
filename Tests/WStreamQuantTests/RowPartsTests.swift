import Synchronization
import Testing
@testable import WStreamQuant

/// How a product's rows are shared among the pool's threads.
@Suite struct RowPartsTests {
    static let shapes = [(2048, 2), (50257, 2), (70, 2), (8192, 3), (16, 2), (1, 2), (40, 3)]

    /// Every row is handed out exactly once, in ranges that start on a tile, by any mix of threads.
    @Test(arguments: shapes)
    func runCoversEveryRowOnce(shape: (rows: Int, threads: Int)) {
        let pool = ComputePool(threadCount: shape.threads)
        let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: shape.rows)
        defer { counts.deallocate() }
        for round in 0..<200 {
            for row in 0..<shape.rows { (counts + row).initialize(to: Atomic(0)) }
            let starts = Atomic<Int>(0)
            RowParts(rows: shape.rows, work: 1 << 20, threads: shape.threads).run(pool) { range in
                if range.lowerBound % RowParts.tileRows != 0 || range.isEmpty { starts.add(1, ordering: .relaxed) }
                for row in range { counts[row].add(1, ordering: .relaxed) }
            }
            let wrong = (0..<shape.rows).filter { counts[$0].load(ordering: .relaxed) != 1 }
            #expect(wrong.isEmpty, "round \(round): rows \(wrong.prefix(5)) of \(shape.rows) ran other than once")
            #expect(starts.load(ordering: .relaxed) == 0, "round \(round): a range off the tiles or empty")
            counts.deinitialize(count: shape.rows)
        }
    }

    /// A part's owner reads it front to back in ranges that follow each other; another thread takes halves of
    /// what is left from the back; and the two meet without a gap or an overlap.
    @Test func ownersReadOnInOrderAndOthersTakeFromTheBack() {
        let parts = RowParts(rows: 2048, work: 1 << 20, threads: 2)
        // Part 0 is tiles 0 ..< 64 (rows 0 ..< 1024).
        #expect(parts.claim(0, fromFront: true) == 0..<512)
        #expect(parts.claim(0, fromFront: false) == 768..<1024)
        #expect(parts.claim(0, fromFront: true) == 512..<640)
        var ranges: [Range<Int>] = []
        while let range = parts.claim(0, fromFront: ranges.count % 2 == 0) { ranges.append(range) }
        #expect(!ranges.isEmpty && ranges.allSatisfy { !$0.isEmpty && $0.count % 16 == 0 }, "\(ranges)")
        let covered = ([0..<512, 768..<1024, 512..<640] + ranges).sorted { $0.lowerBound < $1.lowerBound }
        #expect(zip(covered, covered.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(covered.first?.lowerBound == 0 && covered.last?.upperBound == 1024)
        #expect(parts.claim(1, fromFront: true) == 1024..<1536)
    }

    /// The last tile of a row count that is not a multiple of 16 ends at the last row; one thread, or a product
    /// too small to share, is one part on the caller.
    @Test func edgesAndSmallProducts() {
        let parts = RowParts(rows: 70, work: 1 << 20, threads: 2)
        #expect(parts.partCount == 2)
        #expect(parts.claim(1, fromFront: false) == 64..<70)
        #expect(RowParts(rows: 2048, work: 1 << 20, threads: 1).partCount == 1)
        #expect(RowParts(rows: 2048, work: 100, threads: 2).partCount == 1)
        #expect(RowParts(rows: 16, work: 1 << 20, threads: 4).partCount == 1)
    }

    /// Each part's lead row is where its owner's first claim starts, so a worker reading ahead from it reads
    /// what it computes first.
    @Test(arguments: shapes)
    func laterPartsStartWhereTheirOwnersClaimFirst(shape: (rows: Int, threads: Int)) {
        let parts = RowParts(rows: shape.rows, work: 1 << 20, threads: shape.threads)
        let firstClaims = (1..<parts.partCount).map { parts.claim($0, fromFront: true)?.lowerBound }
        #expect(parts.laterParts.count == parts.partCount - 1)
        #expect(parts.laterParts.map { Optional.some($0.lowerBound) } == firstClaims)
    }
}
