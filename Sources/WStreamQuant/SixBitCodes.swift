/// The byte layout of a row of 6-bit codes: a 4-bit row's nibbles plus a plane of the top two bits, laid
/// out so that the integer kernels widen them with shifts and masks and no shuffle.
///
/// A row is cut into spans of 4 chunks (128 columns; the last span may hold fewer chunks). A span of `n`
/// chunks stores `16 · n` nibble bytes, exactly as a 4-bit row does (byte `k`: the low 4 bits of column
/// `2k` in its low nibble, of column `2k + 1` in its high one), then 32 bytes `P` of top bits. `P[k]`
/// (`k < 32`) holds the top two bits of:
/// - bits 0–1: column `2k`, bits 4–5: column `2k + 1` (nibble byte `k`);
/// - bits 2–3: column `2k + 64`, bits 6–7: column `2k + 65` (nibble byte `k + 32`);
///
/// with columns counted from the span's first. A whole span is 96 bytes, 6 bits per weight; a shorter last
/// span still stores all 32 bytes of `P` (zeros past its columns).
///
/// For a 64-byte load of a span's nibbles, `P` broadcast to both halves of the vector lines each byte up with
/// its nibble byte: the low half takes its top bits from bits 0–1 and 4–5, the high half from bits 2–3
/// and 6–7, one variable shift each (`VNNIKernel`). A 32-byte half of the span (`AVX2Kernel`) and a
/// 16-byte chunk (the portable kernels) take the same shifts with the half or chunk as index.
enum SixBitCodes {
    /// Bytes of a row of `chunks` chunks of 32 columns.
    static func bytesPerRow(chunks: Int) -> Int { 16 * chunks + 32 * ((chunks + 3) / 4) }

    /// Where chunk `chunk`'s 16 nibble bytes start in the row.
    @inline(__always)
    static func nibbleOffset(chunk: Int) -> Int { 96 &* (chunk &>> 2) &+ 16 &* (chunk & 3) }

    /// Where the span holding `chunk` keeps its 32 bytes of top bits, in a row of `chunks` chunks.
    @inline(__always)
    static func highOffset(chunk: Int, chunks: Int) -> Int {
        let first = chunk & ~3
        return 96 &* (chunk &>> 2) &+ 16 &* min(4, chunks &- first)
    }

    /// The right shift that brings the even columns' top bits of nibble byte `k` of a span to bits 0–1 of
    /// `P[k % 32]` (the odd columns' lie 4 bits higher).
    @inline(__always)
    static func evenShift(nibbleByte k: Int) -> UInt8 { UInt8(truncatingIfNeeded: (k &>> 5) &* 2) }

    /// The code of `column` in a row of `chunks` chunks whose codes start at `codes`.
    @inline(__always)
    static func code(_ codes: UnsafeRawPointer, column: Int, chunks: Int) -> UInt8 {
        let chunk = column / 32, k = (column % 128) / 2
        let nibbles = codes.load(fromByteOffset: nibbleOffset(chunk: chunk) + (column % 32) / 2, as: UInt8.self)
        let low = (nibbles >> (4 * UInt8(column & 1))) & 0x0F
        let top = codes.load(fromByteOffset: highOffset(chunk: chunk, chunks: chunks) + k % 32, as: UInt8.self)
        let high = (top >> (evenShift(nibbleByte: k) + 4 * UInt8(column & 1))) & 0x03
        return low | high << 4
    }

    /// Stores `code` (0 … 63) for `column` into a zeroed row of `chunks` chunks.
    static func store(_ code: UInt8, column: Int, chunks: Int, into codes: UnsafeMutableBufferPointer<UInt8>) {
        let chunk = column / 32, k = (column % 128) / 2, odd = UInt8(column & 1)
        codes[nibbleOffset(chunk: chunk) + (column % 32) / 2] |= (code & 0x0F) << (4 * odd)
        codes[highOffset(chunk: chunk, chunks: chunks) + k % 32] |= (code >> 4) << (evenShift(nibbleByte: k) + 4 * odd)
    }
}
