#if WSTREAM_AVX2
import _Builtin_intrinsics.intel

/// The integer kernel for AVX2.
///
/// `vpmaddubsw` multiplies 32 unsigned code bytes by 32 signed activation bytes and adds adjacent pairs into
/// saturating 16-bit lanes; `vpmaddwd` with ones then adds pairs of those into 32-bit lanes. 4-bit codes
/// stay far from saturation (2 · 15 · 127, and the two nibble planes add to at most 7620 before
/// widening). 8-bit codes would not (2 · 255 · 127 > 32767), so they use ggml's sign trick: the codes
/// become signed `w' = q − 128`, `|w'|` meets the activations with `w'`'s sign moved onto them
/// (`vpsignb`), at most 2 · 128 · 127 = 32512, and the `128 · Σ x̂` this leaves out joins the folded bias
/// as `b + 128 · s`. The activations never hold −128, whose sign cannot be flipped.
///
/// 6-bit codes are 4-bit nibbles plus a plane of top bits (`SixBitCodes`), widened into bytes of at most
/// 63: the two planes then add to at most 2 · 2 · 63 · 127 = 32004, still without saturation.
///
/// A load of 32 code bytes covers 2 chunks of 4-bit codes (or of 6-bit codes' nibbles) or 1 of 8-bit codes. With 16 vector registers,
/// prefill tiles are 1 row × 4 inputs (the remaining inputs 2 rows × 1); decode streams one row at a time.
enum AVX2Kernel: IntegerKernel {
    static func chunksPerLoad(bits: Int) -> Int { bits == 8 ? 1 : 2 }

    /// Group sizes of 32 · 2^k, as for `VNNIKernel`.
    static func supports(_ layout: QuantizedLayout) -> Bool {
        let chunksPerGroup = layout.groupSize / 32
        return layout.groupSize % 32 == 0 && chunksPerGroup > 0 && chunksPerGroup & (chunksPerGroup - 1) == 0
    }

    /// This family has no panel kernel: every count takes the row kernels.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int, panels _: Bool) {
        switch addressing.layout.bits {
        case 4: product(AVX2FourBit.self, rows, addressing, inputs, y, yStride: yStride)
        case 6: product(AVX2SixBit.self, rows, addressing, inputs, y, yStride: yStride)
        default: product(AVX2EightBit.self, rows, addressing, inputs, y, yStride: yStride)
        }
    }

    @inline(__always)
    private static func product<Codes: AVX2Codes>(
        _: Codes.Type, _ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
        _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        RowTiling.product(AVX2Tiles<Codes>(plan: AVX2Plan(addressing.layout, Codes.self)), rows, addressing, inputs, y, yStride: yStride)
    }

    /// Rows `row0` (and `row1` when the shape has two) times inputs `t …` into `out[k · yStride]` (row 0)
    /// and `out[k · yStride + 1]` (row 1).
    @inline(__always)
    fileprivate static func tile<Codes: AVX2Codes, Shape: TileShape>(
        _: Codes.Type, _: Shape.Type, _ row0: QuantizedRow, _ row1: QuantizedRow, _ plan: AVX2Plan,
        _ inputs: QuantizedActivations, first t: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        let four = Shape.inputs == 4, two = Shape.rows == 2
        let x0 = UnsafeRawPointer(inputs.codes(t)), d0 = inputs.laneScales(t)
        let x1 = four ? UnsafeRawPointer(inputs.codes(t + 1)) : x0, d1 = four ? inputs.laneScales(t + 1) : d0
        let x2 = four ? UnsafeRawPointer(inputs.codes(t + 2)) : x0, d2 = four ? inputs.laneScales(t + 2) : d0
        let x3 = four ? UnsafeRawPointer(inputs.codes(t + 3)) : x0, d3 = four ? inputs.laneScales(t + 3) : d0
        var a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a02 = _mm256_setzero_ps(), a03 = _mm256_setzero_ps()
        var a10 = _mm256_setzero_ps()
        for load in 0..<plan.loads {
            let partial = plan.lastIsPartial && load == plan.loads - 1
            let scaleIndex = plan.scaleIndex(load)
            let xOffset = Codes.activationBytesPerLoad &* load, dOffset = 8 &* load
            CodePrefetch.ahead(row0.codes + Codes.codeBytesPerLoad &* load)
            let w0 = Codes.weights(row0.codes, load: load, partial: partial, chunks: plan.chunks)
            let s0 = plan.scales(row0, scaleIndex, partial: partial)
            a00 = step(Codes.self, a00, w0, s0, x0 + xOffset, d0 + dOffset)
            if four {
                a01 = step(Codes.self, a01, w0, s0, x1 + xOffset, d1 + dOffset)
                a02 = step(Codes.self, a02, w0, s0, x2 + xOffset, d2 + dOffset)
                a03 = step(Codes.self, a03, w0, s0, x3 + xOffset, d3 + dOffset)
            }
            if two {
                let w1 = Codes.weights(row1.codes, load: load, partial: partial, chunks: plan.chunks)
                let s1 = plan.scales(row1, scaleIndex, partial: partial)
                a10 = step(Codes.self, a10, w1, s1, x0 + xOffset, d0 + dOffset)
            }
        }
        let sums0 = inputs.groupSums(t), sums1 = four ? inputs.groupSums(t + 1) : sums0
        let sums2 = four ? inputs.groupSums(t + 2) : sums0, sums3 = four ? inputs.groupSums(t + 3) : sums0
        // The folded bias, 8 groups at a time into the accumulators, the rest one by one.
        let fullGroups = plan.groups / 8 * 8
        var g = 0
        while g < fullGroups {
            let b0 = Codes.foldedBiases(row0, group: g)
            a00 = _mm256_fmadd_ps(b0, _mm256_loadu_ps(sums0 + g), a00)
            if four {
                a01 = _mm256_fmadd_ps(b0, _mm256_loadu_ps(sums1 + g), a01)
                a02 = _mm256_fmadd_ps(b0, _mm256_loadu_ps(sums2 + g), a02)
                a03 = _mm256_fmadd_ps(b0, _mm256_loadu_ps(sums3 + g), a03)
            }
            if two { a10 = _mm256_fmadd_ps(Codes.foldedBiases(row1, group: g), _mm256_loadu_ps(sums0 + g), a10) }
            g += 8
        }
        var r00 = horizontalSum(a00), r01 = horizontalSum(a01), r02 = horizontalSum(a02), r03 = horizontalSum(a03)
        var r10 = horizontalSum(a10)
        while g < plan.groups {
            let b0 = Codes.foldedBias(row0, group: g)
            r00 = r00.addingProduct(b0, sums0[g])
            if four {
                r01 = r01.addingProduct(b0, sums1[g])
                r02 = r02.addingProduct(b0, sums2[g])
                r03 = r03.addingProduct(b0, sums3[g])
            }
            if two { r10 = r10.addingProduct(Codes.foldedBias(row1, group: g), sums0[g]) }
            g += 1
        }
        out[0] = r00
        if four {
            out[yStride] = r01
            out[2 * yStride] = r02
            out[3 * yStride] = r03
        }
        if two { out[1] = r10 }
    }

    /// `acc + float(codes · x) · s · d` for one load.
    @inline(__always)
    private static func step<Codes: AVX2Codes>(
        _: Codes.Type, _ acc: __m256, _ w: Codes.Weights, _ s: __m256, _ x: UnsafeRawPointer, _ d: UnsafePointer<Float>
    ) -> __m256 {
        _mm256_fmadd_ps(_mm256_cvtepi32_ps(Codes.dot(w, x)), _mm256_mul_ps(s, _mm256_loadu_ps(d)), acc)
    }

    @inline(__always)
    private static func horizontalSum(_ lanes: __m256) -> Float {
        let four = lanes.lowHalf + lanes.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}

/// AVX2Kernel's tiles for `RowTiling`.
private struct AVX2Tiles<Codes: AVX2Codes>: RowTiles {
    static var pairsFourInputs: Bool { false }
    let plan: AVX2Plan

    @inline(__always)
    func tile<Shape: TileShape>(_: Shape.Type, _ row0: QuantizedRow, _ row1: QuantizedRow, _ inputs: QuantizedActivations,
                                first t: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int) {
        AVX2Kernel.tile(Codes.self, Shape.self, row0, row1, plan, inputs, first: t, out, yStride: yStride)
    }
}

/// Per-matrix constants of the AVX2 loops.
private struct AVX2Plan {
    /// Chunks of 32 columns per row.
    let chunks: Int
    let loads: Int
    /// The last load holds one chunk of two (4-bit codes, odd chunk count).
    let lastIsPartial: Bool
    let groups: Int
    /// Two scales per load (4-bit codes in groups of 32), permuted to lanes 0–3 and 4–7; otherwise one,
    /// broadcast.
    let twoScales: Bool
    let chunksPerLoadShift: Int
    let chunksPerGroupShift: Int

    init<Codes: AVX2Codes>(_ layout: QuantizedLayout, _: Codes.Type) {
        chunks = layout.paddedCols / 32
        let chunksPerLoad = Codes.chunksPerLoad, chunksPerGroup = layout.groupSize / 32
        loads = (chunks + chunksPerLoad - 1) / chunksPerLoad
        lastIsPartial = chunks % chunksPerLoad != 0
        groups = layout.groupsPerRow
        twoScales = chunksPerLoad == 2 && chunksPerGroup == 1
        chunksPerLoadShift = chunksPerLoad.trailingZeroBitCount
        chunksPerGroupShift = chunksPerGroup.trailingZeroBitCount
    }

    /// The group of the load's first chunk.
    @inline(__always)
    func scaleIndex(_ load: Int) -> Int { (load &<< chunksPerLoadShift) &>> chunksPerGroupShift }

    /// The scales of one load's 8 lanes from the row's scales; a partial load reads only its own.
    @inline(__always)
    func scales(_ row: QuantizedRow, _ index: Int, partial: Bool) -> __m256 {
        guard twoScales else { return _mm256_set1_ps(row.scale(index)) }
        guard !row.rowScaled else {
            return _mm256_set_m128(_mm_set1_ps(partial ? 0 : row.scale(index &+ 1)), _mm_set1_ps(row.scale(index)))
        }
        let scales = row.scales
        let bits = partial ? Int32(scales.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
                           : scales.loadUnaligned(fromByteOffset: 2 * index, as: Int32.self)
        let pair = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(bits)))
        return _mm256_permutevar8x32_ps(pair, _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0))
    }
}

/// How a load of code bytes becomes products with the activations.
private protocol AVX2Codes {
    associatedtype Weights
    /// Chunks one load of 32 code (or nibble) bytes covers.
    static var chunksPerLoad: Int { get }
    /// Bytes of the row one load reads, on average (how far the prefetch runs ahead).
    static var codeBytesPerLoad: Int { get }
    /// Activation bytes one load meets.
    static var activationBytesPerLoad: Int { get }
    /// Load `load` of the row of `chunks` chunks whose codes start at `row`, ready for `dot`; a partial load
    /// (the last, holding one chunk of two) reads only its own bytes.
    static func weights(_ row: UnsafeRawPointer, load: Int, partial: Bool, chunks: Int) -> Weights
    /// 8 lanes of `Σ code · activation` over 4 adjacent bytes (8 for 4-bit codes: both nibbles).
    static func dot(_ w: Weights, _ x: UnsafeRawPointer) -> __m256i
    /// The bias multiplying `Σ x̂` of 8 groups from `group` on.
    static func foldedBiases(_ row: QuantizedRow, group: Int) -> __m256
    static func foldedBias(_ row: QuantizedRow, group: Int) -> Float
}

extension AVX2Codes {
    /// The row's own biases: what every code width but the sign trick's folds.
    @inline(__always)
    static func foldedBiases(_ row: QuantizedRow, group: Int) -> __m256 { row.biases8(group) }

    @inline(__always)
    static func foldedBias(_ row: QuantizedRow, group: Int) -> Float { row.bias(group) }
}

/// 32 bytes = 2 chunks: low nibbles against the even columns (the first 32 activation bytes of the span),
/// high nibbles against the odd ones (the next 32).
private enum AVX2FourBit: AVX2Codes {
    static var chunksPerLoad: Int { 2 }
    static var codeBytesPerLoad: Int { 32 }
    static var activationBytesPerLoad: Int { 64 }

    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, partial: Bool, chunks _: Int) -> (__m256i, __m256i) {
        nibbles(loadBytes(row + 32 &* load, partial: partial))
    }

    /// 32 bytes, or 16 with zeros above for a partial load.
    @inline(__always)
    static func loadBytes(_ p: UnsafeRawPointer, partial: Bool) -> __m256i {
        partial ? _mm256_set_m128i(_mm_setzero_si128(), p.loadUnaligned(as: __m128i.self)) : p.loadUnaligned(as: __m256i.self)
    }

    /// The low nibbles and the high nibbles of 32 bytes.
    @inline(__always)
    static func nibbles(_ codes: __m256i) -> (__m256i, __m256i) {
        let nibble = _mm256_set1_epi8(0x0F)
        return (_mm256_and_si256(codes, nibble), _mm256_and_si256(_mm256_srli_epi16(codes, 4), nibble))
    }

    @inline(__always)
    static func dot(_ w: (__m256i, __m256i), _ x: UnsafeRawPointer) -> __m256i {
        let pairs = _mm256_add_epi16(_mm256_maddubs_epi16(w.0, x.loadUnaligned(as: __m256i.self)),
                                     _mm256_maddubs_epi16(w.1, x.loadUnaligned(fromByteOffset: 32, as: __m256i.self)))
        return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
    }
}

/// 32 nibble bytes = 2 chunks, as `AVX2FourBit`, with the top bits of their codes from the span's 32-byte
/// plane (`SixBitCodes`): the first half of a span takes them from bits 0–1 and 4–5 of each plane byte,
/// the second from bits 2–3 and 6–7.
private enum AVX2SixBit: AVX2Codes {
    static var chunksPerLoad: Int { 2 }
    static var codeBytesPerLoad: Int { 48 }
    static var activationBytesPerLoad: Int { 64 }

    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, partial: Bool, chunks: Int) -> (__m256i, __m256i) {
        let chunk = 2 &* load, half = Int32(truncatingIfNeeded: load & 1)
        let (evens, odds) = AVX2FourBit.nibbles(AVX2FourBit.loadBytes(row + SixBitCodes.nibbleOffset(chunk: chunk), partial: partial))
        let top = (row + SixBitCodes.highOffset(chunk: chunk, chunks: chunks)).loadUnaligned(as: __m256i.self)
        let mask = _mm256_set1_epi8(0x30)
        let evenTop = _mm256_and_si256(_mm256_sll_epi16(top, _mm_cvtsi32_si128(4 &- 2 &* half)), mask)
        let oddTop = _mm256_and_si256(_mm256_srl_epi16(top, _mm_cvtsi32_si128(2 &* half)), mask)
        return (_mm256_or_si256(evens, evenTop), _mm256_or_si256(odds, oddTop))
    }

    @inline(__always)
    static func dot(_ w: (__m256i, __m256i), _ x: UnsafeRawPointer) -> __m256i { AVX2FourBit.dot(w, x) }
}

/// 32 bytes = 1 chunk of one code per column, through the sign trick.
private enum AVX2EightBit: AVX2Codes {
    static var chunksPerLoad: Int { 1 }
    static var codeBytesPerLoad: Int { 32 }
    static var activationBytesPerLoad: Int { 32 }

    /// `w' = q − 128` as signed bytes (flipping the top bit), and `|w'|`.
    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, partial _: Bool, chunks _: Int) -> (__m256i, __m256i) {
        let codes = row.loadUnaligned(fromByteOffset: 32 &* load, as: __m256i.self)
        let signed = _mm256_xor_si256(codes, _mm256_set1_epi8(-128))
        return (signed, _mm256_abs_epi8(signed))
    }

    @inline(__always)
    static func dot(_ w: (__m256i, __m256i), _ x: UnsafeRawPointer) -> __m256i {
        let signedX = _mm256_sign_epi8(x.loadUnaligned(as: __m256i.self), w.0)
        return _mm256_madd_epi16(_mm256_maddubs_epi16(w.1, signedX), _mm256_set1_epi16(1))
    }

    @inline(__always)
    static func foldedBiases(_ row: QuantizedRow, group: Int) -> __m256 {
        _mm256_fmadd_ps(row.scales8(group), _mm256_set1_ps(128), row.biases8(group))
    }

    @inline(__always)
    static func foldedBias(_ row: QuantizedRow, group: Int) -> Float { row.bias(group).addingProduct(row.scale(group), 128) }
}

extension QuantizedRow {
    /// The scales of groups `group ..< group + 8`.
    @inline(__always)
    fileprivate func scales8(_ group: Int) -> __m256 {
        guard rowScaled else { return _mm256_cvtph_ps(scales.loadUnaligned(fromByteOffset: 2 &* group, as: __m128i.self)) }
        return _mm256_mul_ps(_mm256_set1_ps(rowScale), units8(group))
    }

    /// The biases of groups `group ..< group + 8`.
    @inline(__always)
    fileprivate func biases8(_ group: Int) -> __m256 {
        guard rowScaled else { return _mm256_cvtph_ps(biases.loadUnaligned(fromByteOffset: 2 &* group, as: __m128i.self)) }
        let offsets = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(biases.loadUnaligned(fromByteOffset: group, as: Int64.self))))
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(offsetScale), units8(group)), offsets)
    }

    /// `.rowScaled`: the 8-bit scale multiples of groups `group ..< group + 8` as floats.
    @inline(__always)
    private func units8(_ group: Int) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(scales.loadUnaligned(fromByteOffset: group, as: Int64.self))))
    }
}
#endif
