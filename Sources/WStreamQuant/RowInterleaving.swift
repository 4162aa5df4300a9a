/// Resident 4- and 6-bit matrices rearranged in memory so that the AVX-512 VNNI kernels read 16 rows with each load.
///
/// `VNNIKernel` reads a row at a time: every 64-byte load of codes needs its own conversion to float, its own
/// scales and its own accumulation, and one thread streams about 18 GB/s. Interleaved, a load holds the same
/// 4 code bytes (8 columns) of 16 rows, one row per 32-bit lane, and `VNNITileKernel` keeps one accumulator per
/// lane of the row kernel's sums: a C model of the two loops read 24 against 18 GB/s on one thread.
///
/// The rearrangement happens in place, once, when a model's resident units are loaded; the file's layout does
/// not change, and streamed units keep it. Within each stored block (`QuantizedLayout`), each full tile of 16
/// rows keeps the bytes it had, reordered:
/// - codes: word `w` (bytes `4w ..< 4w + 4` of a row) of the 16 rows at `64 · w + 4 · row`; for 6-bit codes, the
///   64-byte vectors of each span (16 of nibbles, 8 of top bits: `SixBitCodes`) then take the order the tile kernel
///   reads them in (`orderSixBitSpans`);
/// - scales, then biases (or offsets): group `g` of the 16 rows at `16 · g + row` (times the parameter's size);
/// - row scales (`.rowScaled`): unchanged, already one per row in order.
///
/// The kernels that read tiles sum every product in the order the row kernels do, so an interleaved matrix gives
/// bit for bit the results of the same matrix in the file's layout: a budget that streams some units and keeps
/// others resident changes nothing.
public enum RowInterleaving {
    /// Rows per tile: one per 32-bit lane of a 512-bit vector.
    public static let tileRows = 16

    /// Whether `interleave(_:)` rearranges `w` for `kernels`: 4- or 6-bit codes in groups `VNNIKernel` supports, in
    /// blocks of a multiple of 16 rows (so that tiles start on multiples of 16, as the ranges `RowParts` hands out
    /// do), with the VNNI kernels in use.
    public static func applies(to w: WeightMatrix, kernels: KernelFamily) -> Bool {
        guard kernels == .avx512vnni, w.storage == .q4 || w.storage == .q6, !w.interleaved, w.rows >= tileRows,
              w.rowsPerBlock % tileRows == 0, w.groupSize % 32 == 0 else { return false }
        let chunksPerGroup = w.groupSize / 32
        return chunksPerGroup & (chunksPerGroup - 1) == 0
    }

    /// Whether the build's fastest kernels (`KernelFamily.native`) read interleaved matrices.
    public static var appliesToNativeKernels: Bool { KernelFamily.native == .avx512vnni }

    /// Rearranges every full tile of `w` in place and returns the view that says so.
    /// - Precondition: `applies(to: w, kernels: .avx512vnni)`; the caller owns `w`'s memory and nothing reads it
    ///   meanwhile.
    public static func interleave(_ w: WeightMatrix) -> WeightMatrix {
        precondition(applies(to: w, kernels: .avx512vnni), "interleave: a matrix RowInterleaving does not apply to")
        let layout = w.quantizedLayout!
        let codeBytes = layout.codeBytesPerRow, parameterBytes = layout.parameterBytesPerRow
        let parameterSize = layout.parameters.bytesPerGroupParameter
        let blockBytes = layout.blockByteCount(rows: w.rowsPerBlock)
        let base = UnsafeMutableRawPointer(mutating: w.base)
        withUnsafeTemporaryAllocation(byteCount: tileRows * max(codeBytes, parameterBytes), alignment: 64) { scratch in
            let scratch = scratch.baseAddress!
            var firstRow = 0
            while firstRow < w.rows {
                let blockRows = min(w.rowsPerBlock, w.rows - firstRow)
                let block = base + (firstRow / w.rowsPerBlock) * blockBytes
                let scales = block + blockRows * codeBytes, biases = scales + blockRows * parameterBytes
                for tile in 0..<(blockRows / tileRows) {
                    let first = tile * tileRows
                    transpose(block + first * codeBytes, rowBytes: codeBytes, elementSize: 4, scratch: scratch)
                    if layout.bits == 6 { orderSixBitSpans(block + first * codeBytes, chunks: layout.paddedCols / 32, scratch: scratch) }
                    transpose(scales + first * parameterBytes, rowBytes: parameterBytes, elementSize: parameterSize, scratch: scratch)
                    transpose(biases + first * parameterBytes, rowBytes: parameterBytes, elementSize: parameterSize, scratch: scratch)
                }
                firstRow += blockRows
            }
        }
        return w.with(interleaved: true)
    }

    /// Puts each span's vectors of a transposed 6-bit tile in the order the tile kernel reads them: nibble word `l`
    /// and its top bits' word `l` side by side for the first 8 words, then the nibble words past 8 (which reuse the
    /// top words already read), and any top words no nibble word of a short last span reads. Read in the transposed
    /// order (16 nibble vectors, then 8 of top bits), two streams 1 KiB apart, tiles read at 35–42 % of the one-thread
    /// memory probe; read in this order, at its rate (`VNNITileKernel`).
    private static func orderSixBitSpans(_ tile: UnsafeMutableRawPointer, chunks: Int, scratch: UnsafeMutableRawPointer) {
        var chunk = 0
        while chunk < chunks {
            let words = 4 * min(4, chunks - chunk), span = tile + tileRows * SixBitCodes.nibbleOffset(chunk: chunk)
            scratch.copyMemory(from: span, byteCount: 64 * (words + 8))
            for l in 0..<words { (span + nibbleLine(l)).copyMemory(from: scratch + 64 * l, byteCount: 64) }
            for m in 0..<8 { (span + topLine(m, words: words)).copyMemory(from: scratch + 64 * (words + m), byteCount: 64) }
            chunk += 4
        }
    }

    /// Where nibble word `l` of a 6-bit span lies in its tile (`orderSixBitSpans`), from the span's start.
    @inline(__always)
    static func nibbleLine(_ l: Int) -> Int { l < 8 ? 128 &* l : 512 &+ 64 &* l }

    /// Where top-bit word `m` of a 6-bit span of `words` nibble words lies in its tile, from the span's start.
    @inline(__always)
    static func topLine(_ m: Int, words: Int) -> Int { m < min(words, 8) ? 128 &* m &+ 64 : 64 &* (words &+ m) }

    /// `[16 rows][rowBytes]` → `[rowBytes / elementSize][16 rows]` of `elementSize`-byte elements, in place.
    private static func transpose(_ bytes: UnsafeMutableRawPointer, rowBytes: Int, elementSize: Int, scratch: UnsafeMutableRawPointer) {
        scratch.copyMemory(from: bytes, byteCount: tileRows * rowBytes)
        switch elementSize {
        case 4: transpose(UInt32.self, bytes, rowBytes: rowBytes, scratch: scratch)
        case 2: transpose(UInt16.self, bytes, rowBytes: rowBytes, scratch: scratch)
        default: transpose(UInt8.self, bytes, rowBytes: rowBytes, scratch: scratch)
        }
    }

    private static func transpose<Element: FixedWidthInteger>(_: Element.Type, _ bytes: UnsafeMutableRawPointer, rowBytes: Int,
                                                              scratch: UnsafeRawPointer) {
        let size = MemoryLayout<Element>.size
        for element in 0..<(rowBytes / size) {
            for row in 0..<tileRows {
                let value = scratch.loadUnaligned(fromByteOffset: row * rowBytes + element * size, as: Element.self)
                bytes.storeBytes(of: value, toByteOffset: (element * tileRows + row) * size, as: Element.self)
            }
        }
    }

    /// Rows of `w` that lie in tiles: all but the last `rows % 16` when it is interleaved (its blocks hold whole
    /// tiles but the last block may not), none otherwise.
    @inline(__always)
    static func tiledRows(_ w: WeightMatrix) -> Int { w.interleaved ? w.rows / tileRows * tileRows : 0 }
}
