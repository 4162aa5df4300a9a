import Testing
@testable import WStreamQuant

/// How a product's rows are cut into chunks for the pool's threads.
@Suite struct RowSplitTests {
    /// Chunks cover the rows once, in order, in multiples of 16 rows, shrinking to 16 rows at the end.
    @Test(arguments: [(2048, 2), (50257, 2), (70, 2), (8192, 3), (16, 2), (1, 2)])
    func rowSplitShrinksToOneTileAtTheEnd(shape: (rows: Int, threads: Int)) {
        let split = RowSplit(rows: shape.rows, work: 1 << 20, threads: shape.threads)
        let chunks = (0..<split.chunkCount).map(split.rows)
        #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == shape.rows)
        for (chunk, next) in zip(chunks, chunks.dropFirst()) {
            #expect(chunk.upperBound == next.lowerBound && chunk.lowerBound % 16 == 0 && chunk.count % 16 == 0)
            #expect(next.count <= chunk.count, "chunks grow: \(chunks)")
        }
        #expect(chunks.allSatisfy { !$0.isEmpty })
        #expect((chunks.last?.count ?? 0) <= 16, "the last chunk is more than a tile: \(chunks)")
        #expect(split.chunkCount < 2 * shape.threads * 20, "\(split.chunkCount) chunks for \(shape.rows) rows")
        #expect(RowSplit(rows: shape.rows, work: 1 << 20, threads: 1).chunkCount == 1)
        #expect(RowSplit(rows: shape.rows, work: 100, threads: shape.threads).chunkCount == 1)
    }
}
