import Testing
@testable import WStreamQuant

/// The 6-bit row layout against its documented definition, written out independently here.
@Suite struct SixBitCodesTests {
    /// The bytes `SixBitCodes` documents for `codes` (one per column of a row of `chunks` chunks).
    private func documentedBytes(_ codes: [UInt8], chunks: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for spanStart in stride(from: 0, to: chunks, by: 4) {
            let spanChunks = min(4, chunks - spanStart), first = spanStart * 32
            func code(_ column: Int) -> UInt8 { column < spanChunks * 32 ? codes[first + column] : 0 }
            for k in 0..<(16 * spanChunks) { bytes.append(code(2 * k) & 0x0F | (code(2 * k + 1) & 0x0F) << 4) }
            for k in 0..<32 {
                bytes.append(code(2 * k) >> 4 | (code(2 * k + 64) >> 4) << 2 | (code(2 * k + 1) >> 4) << 4 | (code(2 * k + 65) >> 4) << 6)
            }
        }
        return bytes
    }

    @Test(arguments: [1, 2, 3, 4, 5, 7, 8, 64])
    func storedCodesFollowTheDocumentedLayout(chunks: Int) {
        var generator = SplitMix64(seed: UInt64(chunks))
        let codes = (0..<(32 * chunks)).map { _ in UInt8.random(in: 0...63, using: &generator) }
        var row = [UInt8](repeating: 0, count: SixBitCodes.bytesPerRow(chunks: chunks))
        row.withUnsafeMutableBufferPointer { row in
            for (column, code) in codes.enumerated() { SixBitCodes.store(code, column: column, chunks: chunks, into: row) }
        }
        #expect(row == documentedBytes(codes, chunks: chunks))
        row.withUnsafeBytes { row in
            for column in codes.indices {
                #expect(SixBitCodes.code(row.baseAddress!, column: column, chunks: chunks) == codes[column], "column \(column)")
            }
        }
    }

    /// Whole spans cost 6 bits per weight; a shorter last span pads only its plane of top bits.
    @Test func rowBytes() {
        #expect(SixBitCodes.bytesPerRow(chunks: 64) == 2048 * 6 / 8)
        #expect(SixBitCodes.bytesPerRow(chunks: 2) == 32 + 32)
        #expect(QuantizedLayout(bits: 6, groupSize: 32, rows: 1, cols: 2048).codeBytesPerRow == 1536)
        #expect(QuantizedLayout(bits: 6, groupSize: 64, rows: 1, cols: 200).codeBytesPerRow == 16 * 8 + 64)
    }
}
