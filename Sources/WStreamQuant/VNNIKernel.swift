#if WSTREAM_AVX512VNNI
import _Builtin_intrinsics.intel

/// The integer kernel for AVX-512 with VNNI.
///
/// `vpdpbusd` multiplies 64 unsigned code bytes by 64 signed activation bytes and adds each four adjacent
/// products into a 32-bit lane, without saturation, so 8-bit codes (0…255) need no trick. A load of 64 code
/// bytes covers 4 chunks of 4-bit codes (low nibbles against the even-column activations, high nibbles
/// against the odd ones: two instructions) or 2 chunks of 8-bit codes (one). The 16 lanes are converted to
/// float once per load and multiplied by their `s · d` (the row's scales, permuted to lanes, times the
/// activation's lane scales). 6-bit codes are a 4-bit row's nibbles plus a plane of top bits (`SixBitCodes`):
/// a load of 64 nibble bytes takes the 32 plane bytes of its span, broadcast to both halves, and widens with
/// one variable shift and one mask per nibble plane, so it costs the 4-bit load's two `vpdpbusd`.
///
/// Decode (fewer than 4 inputs) streams one row at a time. With 4 to 7 inputs, tiles of 2 rows × 4 inputs
/// share each decoded load between the inputs and each activation load between the rows: 8 float
/// accumulators, 4 decoded code vectors and 2 scale vectors, well within the 32 vector registers. Each input
/// sums in the same order whatever the tile. When asked for panels (from 8 inputs on, or always, see
/// `IntegerPath`), `VNNIPanelKernel` takes over, for 4- and 8-bit codes (6-bit ones, which `pack` uses for the
/// output head, where prefill needs one input, keep the row tiles, or the tile kernel when interleaved). A row's
/// last load is masked, so nothing past it is read.
enum VNNIKernel: IntegerKernel {
    static func chunksPerLoad(bits: Int) -> Int { bits == 8 ? 2 : 4 }

    /// Group sizes of 32 · 2^k: a load then holds whole groups, or a group whole loads.
    static func supports(_ layout: QuantizedLayout) -> Bool {
        let chunksPerGroup = layout.groupSize / 32
        return layout.groupSize % 32 == 0 && chunksPerGroup > 0 && chunksPerGroup & (chunksPerGroup - 1) == 0
    }

    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int, panels: Bool) {
        // Interleaved rows (`RowInterleaving`) take the tile kernel; the panel kernel reads 4-bit tiles itself.
        let tiledEnd = min(rows.upperBound, addressing.tiledRows)
        if (!panels || addressing.layout.bits == 6) && rows.lowerBound < tiledEnd {
            VNNITileKernel.rows(rows.lowerBound..<tiledEnd, addressing, inputs, y, yStride: yStride)
            if tiledEnd < rows.upperBound { self.rows(tiledEnd..<rows.upperBound, addressing, inputs, y, yStride: yStride, panels: false) }
            return
        }
        switch addressing.layout.bits {
        case _ where panels && addressing.layout.bits != 6: VNNIPanelKernel.rows(rows, addressing, inputs, y, yStride: yStride)
        case 4: product(VNNIFourBit.self, rows, addressing, inputs, y, yStride: yStride)
        case 6: product(VNNISixBit.self, rows, addressing, inputs, y, yStride: yStride)
        default: product(VNNIEightBit.self, rows, addressing, inputs, y, yStride: yStride)
        }
    }

    @inline(__always)
    private static func product<Codes: VNNICodes>(
        _: Codes.Type, _ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
        _ y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        RowTiling.product(VNNITiles<Codes>(plan: VNNIPlan(addressing.layout, Codes.self)), rows, addressing, inputs, y, yStride: yStride)
    }

    /// Rows `row0` (and `row1` when the shape has two) times inputs `t …` into `out[k · yStride]` (row 0)
    /// and `out[k · yStride + 1]` (row 1).
    @inline(__always)
    fileprivate static func tile<Codes: VNNICodes, Shape: TileShape>(
        _: Codes.Type, _: Shape.Type, _ row0: QuantizedRow, _ row1: QuantizedRow, _ plan: VNNIPlan,
        _ inputs: QuantizedActivations, first t: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        let four = Shape.inputs == 4, two = Shape.rows == 2
        let x0 = UnsafeRawPointer(inputs.codes(t)), d0 = inputs.laneScales(t)
        let x1 = four ? UnsafeRawPointer(inputs.codes(t + 1)) : x0, d1 = four ? inputs.laneScales(t + 1) : d0
        let x2 = four ? UnsafeRawPointer(inputs.codes(t + 2)) : x0, d2 = four ? inputs.laneScales(t + 2) : d0
        let x3 = four ? UnsafeRawPointer(inputs.codes(t + 3)) : x0, d3 = four ? inputs.laneScales(t + 3) : d0
        var a00 = _mm512_setzero_ps(), a01 = _mm512_setzero_ps(), a02 = _mm512_setzero_ps(), a03 = _mm512_setzero_ps()
        var a10 = _mm512_setzero_ps(), a11 = _mm512_setzero_ps(), a12 = _mm512_setzero_ps(), a13 = _mm512_setzero_ps()
        @inline(__always) func accumulate(_ load: Int, codeMask: UInt64, scaleMask: UInt16) {
            let scaleIndex = plan.scaleIndex(load)
            let xOffset = Codes.activationBytesPerLoad &* load, dOffset = 16 &* load
            CodePrefetch.ahead(row0.codes + Codes.codeBytesPerLoad &* load)
            let w0 = Codes.weights(row0.codes, load: load, mask: codeMask, chunks: plan.chunks)
            let s0 = plan.scales(row0, scaleIndex, mask: scaleMask)
            a00 = step(Codes.self, a00, w0, s0, x0 + xOffset, d0 + dOffset)
            if four {
                a01 = step(Codes.self, a01, w0, s0, x1 + xOffset, d1 + dOffset)
                a02 = step(Codes.self, a02, w0, s0, x2 + xOffset, d2 + dOffset)
                a03 = step(Codes.self, a03, w0, s0, x3 + xOffset, d3 + dOffset)
            }
            if two {
                let w1 = Codes.weights(row1.codes, load: load, mask: codeMask, chunks: plan.chunks)
                let s1 = plan.scales(row1, scaleIndex, mask: scaleMask)
                a10 = step(Codes.self, a10, w1, s1, x0 + xOffset, d0 + dOffset)
                if four {
                    a11 = step(Codes.self, a11, w1, s1, x1 + xOffset, d1 + dOffset)
                    a12 = step(Codes.self, a12, w1, s1, x2 + xOffset, d2 + dOffset)
                    a13 = step(Codes.self, a13, w1, s1, x3 + xOffset, d3 + dOffset)
                }
            }
        }
        // Whole loads with constant masks (plain loads), then the partial last one, if any.
        for load in 0..<plan.fullLoads { accumulate(load, codeMask: .max, scaleMask: plan.scaleMask) }
        if plan.fullLoads < plan.loads { accumulate(plan.fullLoads, codeMask: plan.lastCodeMask, scaleMask: plan.lastScaleMask) }
        // The folded bias, 16 groups at a time, into the same accumulators.
        let sums0 = inputs.groupSums(t), sums1 = four ? inputs.groupSums(t + 1) : sums0
        let sums2 = four ? inputs.groupSums(t + 2) : sums0, sums3 = four ? inputs.groupSums(t + 3) : sums0
        var g = 0
        while g < plan.groups {
            let mask = g + 16 <= plan.groups ? UInt16.max : plan.lastBiasMask
            let b0 = Codes.foldedBiases(row0, group: g, mask: mask)
            a00 = _mm512_fmadd_ps(b0, _mm512_loadu_ps(sums0 + g), a00)
            if four {
                a01 = _mm512_fmadd_ps(b0, _mm512_loadu_ps(sums1 + g), a01)
                a02 = _mm512_fmadd_ps(b0, _mm512_loadu_ps(sums2 + g), a02)
                a03 = _mm512_fmadd_ps(b0, _mm512_loadu_ps(sums3 + g), a03)
            }
            if two {
                let b1 = Codes.foldedBiases(row1, group: g, mask: mask)
                a10 = _mm512_fmadd_ps(b1, _mm512_loadu_ps(sums0 + g), a10)
                if four {
                    a11 = _mm512_fmadd_ps(b1, _mm512_loadu_ps(sums1 + g), a11)
                    a12 = _mm512_fmadd_ps(b1, _mm512_loadu_ps(sums2 + g), a12)
                    a13 = _mm512_fmadd_ps(b1, _mm512_loadu_ps(sums3 + g), a13)
                }
            }
            g += 16
        }
        out[0] = horizontalSum(a00)
        if four {
            out[yStride] = horizontalSum(a01)
            out[2 * yStride] = horizontalSum(a02)
            out[3 * yStride] = horizontalSum(a03)
        }
        if two {
            out[1] = horizontalSum(a10)
            if four {
                out[yStride + 1] = horizontalSum(a11)
                out[2 * yStride + 1] = horizontalSum(a12)
                out[3 * yStride + 1] = horizontalSum(a13)
            }
        }
    }

    /// `acc + float(codes · x) · s · d` for one load.
    @inline(__always)
    private static func step<Codes: VNNICodes>(
        _: Codes.Type, _ acc: __m512, _ w: Codes.Weights, _ s: __m512, _ x: UnsafeRawPointer, _ d: UnsafePointer<Float>
    ) -> __m512 {
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(Codes.dot(w, x)), _mm512_mul_ps(s, _mm512_loadu_ps(d)), acc)
    }
}

/// VNNIKernel's tiles for `RowTiling`.
private struct VNNITiles<Codes: VNNICodes>: RowTiles {
    static var pairsFourInputs: Bool { true }
    let plan: VNNIPlan

    @inline(__always)
    func tile<Shape: TileShape>(_: Shape.Type, _ row0: QuantizedRow, _ row1: QuantizedRow, _ inputs: QuantizedActivations,
                                first t: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int) {
        VNNIKernel.tile(Codes.self, Shape.self, row0, row1, plan, inputs, first: t, out, yStride: yStride)
    }
}

/// Per-matrix constants of the VNNI loops: loads per row, masks for the last (partial) load and for the
/// last 16 groups, and how a load's scales map to its lanes.
private struct VNNIPlan {
    /// Chunks of 32 columns per row.
    let chunks: Int
    let loads: Int
    /// Loads whose 64 code bytes all belong to the row.
    let fullLoads: Int
    let lastCodeMask: UInt64
    let scaleMask: UInt16
    let lastScaleMask: UInt16
    let groups: Int
    let lastBiasMask: UInt16
    /// `scaleIndex(load) = (load << chunksPerLoadShift) >> chunksPerGroupShift`.
    let chunksPerLoadShift: Int
    let chunksPerGroupShift: Int
    /// Lane → index of its scale among those one load reads.
    let permutation: __m512i

    init<Codes: VNNICodes>(_ layout: QuantizedLayout, _: Codes.Type) {
        chunks = layout.paddedCols / 32
        let chunksPerLoad = 64 / Codes.bytesPerChunk, chunksPerGroup = layout.groupSize / 32
        loads = (chunks + chunksPerLoad - 1) / chunksPerLoad
        let lastChunks = chunks - (loads - 1) * chunksPerLoad
        fullLoads = lastChunks == chunksPerLoad ? loads : loads - 1
        lastCodeMask = lastChunks == chunksPerLoad ? .max : (1 << UInt64(lastChunks * Codes.bytesPerChunk)) - 1
        let scalesPerLoad = max(chunksPerLoad / chunksPerGroup, 1)
        scaleMask = UInt16((1 << scalesPerLoad) - 1)
        lastScaleMask = UInt16((1 << max(lastChunks / chunksPerGroup, 1)) - 1)
        groups = layout.groupsPerRow
        lastBiasMask = groups % 16 == 0 ? .max : UInt16((1 << (groups % 16)) - 1)
        chunksPerLoadShift = chunksPerLoad.trailingZeroBitCount
        chunksPerGroupShift = chunksPerGroup.trailingZeroBitCount
        let lanesPerChunk = 16 / chunksPerLoad
        var lanes = SIMD16<Int32>()
        for lane in 0..<16 { lanes[lane] = Int32(chunksPerGroup >= chunksPerLoad ? 0 : lane / lanesPerChunk / chunksPerGroup) }
        permutation = unsafeBitCast(lanes, to: __m512i.self)
    }

    @inline(__always)
    func scaleIndex(_ load: Int) -> Int { (load &<< chunksPerLoadShift) &>> chunksPerGroupShift }

    /// The scales of one load's lanes, from the row's scales from group `index` on (only `mask`'s are read).
    @inline(__always)
    func scales(_ row: QuantizedRow, _ index: Int, mask: UInt16) -> __m512 {
        _mm512_permutexvar_ps(permutation, row.scales16(index, mask: mask))
    }
}

/// How a load of code bytes becomes products with the activations.
private protocol VNNICodes {
    associatedtype Weights
    /// Bytes of a chunk's codes (of its nibbles, for 6-bit codes) in a load of 64.
    static var bytesPerChunk: Int { get }
    /// Bytes of the row one load reads (how far the prefetch runs ahead).
    static var codeBytesPerLoad: Int { get }
    /// Activation bytes one load of 64 code bytes meets.
    static var activationBytesPerLoad: Int { get }
    /// Load `load` of the row of `chunks` chunks whose codes start at `row`, ready for `dot`; only the code
    /// bytes in `mask` are read (a row's last load may be partial).
    static func weights(_ row: UnsafeRawPointer, load: Int, mask: UInt64, chunks: Int) -> Weights
    /// 16 lanes of `Σ code · activation` over 4 adjacent bytes (8 for 4-bit codes: both nibbles).
    static func dot(_ w: Weights, _ x: UnsafeRawPointer) -> __m512i
    /// The biases of groups `group …` (`mask`ed) as floats.
    static func foldedBiases(_ row: QuantizedRow, group: Int, mask: UInt16) -> __m512
}

extension VNNICodes {
    @inline(__always)
    static func foldedBiases(_ row: QuantizedRow, group: Int, mask: UInt16) -> __m512 { row.biases16(group, mask: mask) }
}

extension QuantizedRow {
    /// The scales of groups `group ..< group + 16` (only `mask`'s are read; the others are 0).
    @inline(__always)
    func scales16(_ group: Int, mask: UInt16) -> __m512 {
        guard rowScaled else { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, scales + 2 &* group)) }
        return _mm512_mul_ps(_mm512_set1_ps(rowScale), _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, scales + group))))
    }

    /// The biases of groups `group ..< group + 16` (only `mask`'s are read; the others are 0).
    @inline(__always)
    func biases16(_ group: Int, mask: UInt16) -> __m512 {
        guard rowScaled else { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, biases + 2 &* group)) }
        let units = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, scales + group)))
        let offsets = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, biases + group)))
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(offsetScale), units), offsets)
    }
}

/// 64 bytes = 4 chunks: low nibbles against the even columns (the first 64 activation bytes of the span),
/// high nibbles against the odd ones (the next 64).
private enum VNNIFourBit: VNNICodes {
    static var bytesPerChunk: Int { 16 }
    static var codeBytesPerLoad: Int { 64 }
    static var activationBytesPerLoad: Int { 128 }

    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, mask: UInt64, chunks _: Int) -> (__m512i, __m512i) {
        nibbles(_mm512_maskz_loadu_epi8(mask, row + 64 &* load))
    }

    /// The low nibbles and the high nibbles of 64 bytes.
    @inline(__always)
    static func nibbles(_ codes: __m512i) -> (__m512i, __m512i) {
        let nibble = _mm512_set1_epi8(0x0F)
        return (_mm512_and_si512(codes, nibble), _mm512_and_si512(_mm512_srli_epi16(codes, 4), nibble))
    }

    @inline(__always)
    static func dot(_ w: (__m512i, __m512i), _ x: UnsafeRawPointer) -> __m512i {
        let even = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.0, _mm512_loadu_si512(x))
        return _mm512_dpbusd_epi32(even, w.1, _mm512_loadu_si512(x + 64))
    }
}

/// A span of 6-bit codes (`SixBitCodes`): its 64 nibble bytes as `VNNIFourBit` takes them, each code's top
/// two bits from the span's 32-byte plane broadcast to both halves of the vector. The even columns' top
/// bits sit at bits 0–1 of a plane byte for the low half and 2–3 for the high one (shifted up by 4 and 2),
/// the odd columns' at bits 4–5 and 6–7 (shifted down by 0 and 2); 16-bit shifts spill bits into the
/// neighbouring byte only outside the mask `0x30`.
private enum VNNISixBit: VNNICodes {
    static var bytesPerChunk: Int { 16 }
    static var codeBytesPerLoad: Int { 96 }
    static var activationBytesPerLoad: Int { 128 }

    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, mask: UInt64, chunks: Int) -> (__m512i, __m512i) {
        let (evens, odds) = VNNIFourBit.nibbles(_mm512_maskz_loadu_epi8(mask, row + 96 &* load))
        let top = _mm512_broadcast_i64x4((row + SixBitCodes.highOffset(chunk: 4 &* load, chunks: chunks)).loadUnaligned(as: __m256i.self))
        // Per 16-bit lane: 4 in the low half, 2 in the high one (even columns); 0 and 2 (odd columns).
        let fours: Int64 = 0x0004_0004_0004_0004, twos: Int64 = 0x0002_0002_0002_0002
        let evenShifts = _mm512_set_epi64(twos, twos, twos, twos, fours, fours, fours, fours)
        let oddShifts = _mm512_set_epi64(twos, twos, twos, twos, 0, 0, 0, 0)
        let topMask = _mm512_set1_epi8(0x30)
        let evenTop = _mm512_and_si512(_mm512_sllv_epi16(top, evenShifts), topMask)
        let oddTop = _mm512_and_si512(_mm512_srlv_epi16(top, oddShifts), topMask)
        return (_mm512_or_si512(evens, evenTop), _mm512_or_si512(odds, oddTop))
    }

    @inline(__always)
    static func dot(_ w: (__m512i, __m512i), _ x: UnsafeRawPointer) -> __m512i { VNNIFourBit.dot(w, x) }
}

/// 64 bytes = 2 chunks of one code per column.
private enum VNNIEightBit: VNNICodes {
    static var bytesPerChunk: Int { 32 }
    static var codeBytesPerLoad: Int { 64 }
    static var activationBytesPerLoad: Int { 64 }

    @inline(__always)
    static func weights(_ row: UnsafeRawPointer, load: Int, mask: UInt64, chunks _: Int) -> __m512i {
        _mm512_maskz_loadu_epi8(mask, row + 64 &* load)
    }

    @inline(__always)
    static func dot(_ w: __m512i, _ x: UnsafeRawPointer) -> __m512i {
        _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512(x))
    }
}
#endif
