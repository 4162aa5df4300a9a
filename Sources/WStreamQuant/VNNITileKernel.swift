#if WSTREAM_AVX512VNNI
import _Builtin_intrinsics.intel

/// The AVX-512 VNNI row kernel for interleaved 4- and 6-bit matrices (`RowInterleaving`): 16 rows per load.
///
/// Its sums are `VNNIKernel`'s to the last bit. That kernel keeps 16 lanes per row, lane `l` taking word `l` of each
/// 64-byte load of the row (8 columns: 4 low nibbles, 4 high ones). Here accumulator `l` holds lane `l` of all 16
/// rows, one row per 32-bit lane, fed by the tile's load of word `16 · span + l`; the scales, the folded bias (lane
/// `j` takes groups `j`, `j + 16`, …) and the final tree of additions take the same steps in the same order, and the
/// lanes a row's partial last load leaves empty add the same zeros. A load serves 16 rows with two `vpdpbusd` and no
/// permutation, the scales are converted once per chunk for 16 rows, and the rows' sums leave in one vector.
///
/// 6-bit codes widen their nibble words with the top bits as `VNNIKernel` does (`SixBitCodes`), but every word of a
/// load shifts by the same amount, so immediate shifts replace the variable ones. A 6-bit span's vectors lie in the
/// order they are read (nibble word `l`, then its top bits, for `l < 8`): in the transposed order, 16 nibble vectors
/// and then 8 of top bits, the loop read 10–12 GB/s from memory on one thread against 48 GB/s from cache, and in
/// this order it reads 29 GB/s, the one-thread probe's rate, where the 6-bit row kernel reads 23.
///
/// Each input takes its own pass over a tile (about 17 KiB of a 2048-column 4-bit matrix), which stays in cache for
/// the next input: 16 accumulators per input leave no registers for a second.
///
/// Which code lines the loop asks for ahead depends on the CPU's maker (`TilePrefetch`). On AMD Zen 4, a wider
/// tile's codes stream past more than L1 holds before the next tile reads the same activations again (64 KiB for
/// the 8192 columns of a down projection, against a 32 KiB L1), and pushed them out: such matrices read at 80 % of
/// what 2048-column ones do. For those the kernel asks for each code line 2 KiB ahead as non-temporal data
/// (`CodePrefetch.aheadNonTemporal`), the first to leave L1: 8 % less time on one thread. Narrower tiles read slower
/// with the same prefetch. That is not the whole deficit: stored in 2048-column bands, which keeps the activations'
/// reuse as short as a narrow tile's, the wide tiles read slower still (docs/ARCHITECTURE.md). On Intel every tile
/// asks for each line 4 KiB ahead into L1 and 24 KiB ahead into L2 (`CodePrefetch.farAhead`), without which its
/// cores leave the loads waiting.
enum VNNITileKernel {
    /// Rows `rows` (whole tiles, from a multiple of 16) times every input into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let plan = TilePlan(addressing.layout)
        if plan.sixBit {
            tiles(SixBitTiles.self, rows, plan, addressing, inputs, y, yStride: yStride)
        } else {
            tiles(FourBitTiles.self, rows, plan, addressing, inputs, y, yStride: yStride)
        }
    }

    /// The loop over tiles, compiled once per code width.
    @inline(never)
    private static func tiles<Width: TileCodeWidth>(_: Width.Type, _ rows: Range<Int>, _ plan: TilePlan, _ addressing: QuantizedAddressing,
                                                    _ inputs: QuantizedActivations, _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        var first = rows.lowerBound
        while first < rows.upperBound {
            let tile = TileParameters(addressing.row(first), rowScaled: addressing.rowScaled, offsetUnit: addressing.offsetUnit)
            for t in 0..<inputs.count { product(tile, plan, sixBit: Width.sixBit, inputs, input: t, y + (t &* yStride &+ first)) }
            first += RowInterleaving.tileRows
        }
    }

    @inline(__always)
    private static func product(_ tile: TileParameters, _ plan: TilePlan, sixBit: Bool, _ inputs: QuantizedActivations, input t: Int,
                                _ out: UnsafeMutablePointer<Float>) {
        let x = UnsafeRawPointer(inputs.codes(t)), d = inputs.laneScales(t), sums = inputs.groupSums(t)
        let codes = tile.row.codes, nibble = _mm512_set1_epi8(0x0F), topMask = _mm512_set1_epi8(0x30), zero = _mm512_setzero_ps()
        var a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero
        var a8 = zero, a9 = zero, a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero

        /// Lanes `0 ..< words` of load `span` of the rows; the others add the zeros a masked load gives.
        @inline(__always) func span(_ span: Int, words: Int) {
            let chunk = 4 &* span, dSpan = d + 16 &* span, xSpan = x + 128 &* span
            // A span's 16 rows of nibble words; for 6-bit codes, with their 8 words of top bits (`SixBitCodes`) in
            // the order `RowInterleaving` keeps them.
            let start = codes + (sixBit ? 1536 : 1024) &* span
            // A chunk's 4 lanes share its scale and its activations' `d` (repeated per lane in `laneScales`).
            @inline(__always) func chunkScales(_ k: Int) -> __m512 {
                _mm512_mul_ps(words > 4 &* k ? tile.scales(plan.group(chunk &+ k)) : tile.scalesOfZero, _mm512_set1_ps(dSpan[4 &* k]))
            }
            let sd0 = chunkScales(0), sd1 = chunkScales(1), sd2 = chunkScales(2), sd3 = chunkScales(3)
            @inline(__always) func lane(_ l: Int, _ acc: inout __m512) {
                let sd = l < 4 ? sd0 : l < 8 ? sd1 : l < 12 ? sd2 : sd3
                guard l < words else { acc = _mm512_fmadd_ps(zero, sd, acc); return }
                let nibbles = start + (sixBit ? RowInterleaving.nibbleLine(l) : 64 &* l)
                let tops = sixBit ? start + RowInterleaving.topLine(l & 7, words: words) : start
                switch plan.prefetch {
                case .none: break
                case .nonTemporal:
                    CodePrefetch.aheadNonTemporal(nibbles)
                    if sixBit && l < 8 { CodePrefetch.aheadNonTemporal(tops) }
                case .farAhead:
                    CodePrefetch.farAhead(nibbles)
                    if sixBit && l < 8 { CodePrefetch.farAhead(tops) }
                }
                let v = _mm512_loadu_si512(nibbles)
                var low = _mm512_and_si512(v, nibble), high = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble)
                if sixBit {
                    // Word l's top bits: in word l % 8 of the plane, at bits 0–1 and 4–5 of each byte for the first
                    // 8 words, 2–3 and 6–7 for the last 8 (`SixBitCodes`); 16-bit shifts spill only outside 0x30.
                    let top = _mm512_loadu_si512(tops)
                    let evenTop = l < 8 ? _mm512_slli_epi16(top, 4) : _mm512_slli_epi16(top, 2)
                    let oddTop = l < 8 ? top : _mm512_srli_epi16(top, 2)
                    low = _mm512_or_si512(low, _mm512_and_si512(evenTop, topMask))
                    high = _mm512_or_si512(high, _mm512_and_si512(oddTop, topMask))
                }
                let even = _mm512_dpbusd_epi32(_mm512_setzero_si512(), low, broadcast(xSpan + 4 &* l))
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(even, high, broadcast(xSpan + (4 &* l &+ 64)))), sd, acc)
            }
            lane(0, &a0); lane(1, &a1); lane(2, &a2); lane(3, &a3); lane(4, &a4); lane(5, &a5); lane(6, &a6); lane(7, &a7)
            lane(8, &a8); lane(9, &a9); lane(10, &a10); lane(11, &a11); lane(12, &a12); lane(13, &a13); lane(14, &a14); lane(15, &a15)
        }
        for s in 0..<plan.fullSpans { span(s, words: 16) }
        if plan.lastWords > 0 { span(plan.fullSpans, words: plan.lastWords) }

        // The folded bias: lane j takes groups j, j + 16, …; groups past the row add zeros, as masked loads do.
        var g = 0
        while g < plan.groups {
            @inline(__always) func lane(_ j: Int, _ acc: inout __m512) {
                let b = g &+ j < plan.groups ? tile.biases(g &+ j) : tile.biasesOfZero
                acc = _mm512_fmadd_ps(b, _mm512_set1_ps(sums[g &+ j]), acc)
            }
            lane(0, &a0); lane(1, &a1); lane(2, &a2); lane(3, &a3); lane(4, &a4); lane(5, &a5); lane(6, &a6); lane(7, &a7)
            lane(8, &a8); lane(9, &a9); lane(10, &a10); lane(11, &a11); lane(12, &a12); lane(13, &a13); lane(14, &a14); lane(15, &a15)
            g += 16
        }
        // `horizontalSum`'s tree, lane by lane: 16 → 8 → 4 → 2 → 1.
        let e0 = _mm512_add_ps(a0, a8), e1 = _mm512_add_ps(a1, a9), e2 = _mm512_add_ps(a2, a10), e3 = _mm512_add_ps(a3, a11)
        let e4 = _mm512_add_ps(a4, a12), e5 = _mm512_add_ps(a5, a13), e6 = _mm512_add_ps(a6, a14), e7 = _mm512_add_ps(a7, a15)
        let f0 = _mm512_add_ps(e0, e4), f1 = _mm512_add_ps(e1, e5), f2 = _mm512_add_ps(e2, e6), f3 = _mm512_add_ps(e3, e7)
        let h0 = _mm512_add_ps(f0, f2), h1 = _mm512_add_ps(f1, f3)
        _mm512_storeu_ps(out, _mm512_add_ps(h0, h1))
    }

    /// Four activation bytes in every lane.
    @inline(__always)
    private static func broadcast(_ p: UnsafeRawPointer) -> __m512i { _mm512_set1_epi32(p.loadUnaligned(as: Int32.self)) }
}

/// The code width a specialisation of `VNNITileKernel`'s loop reads.
private protocol TileCodeWidth { static var sixBit: Bool { get } }
private enum FourBitTiles: TileCodeWidth { static var sixBit: Bool { false } }
private enum SixBitTiles: TileCodeWidth { static var sixBit: Bool { true } }

/// Per-matrix constants of `VNNITileKernel`.
private struct TilePlan {
    /// Loads of 16 words per row that are whole, and the words of the last one when it is partial (0 otherwise).
    let fullSpans: Int
    let lastWords: Int
    let groups: Int
    let chunksPerGroupShift: Int
    /// What the loop asks for ahead of each load (`TilePrefetch`).
    let prefetch: LinePrefetch
    /// 6-bit codes (`SixBitCodes`); 4-bit otherwise.
    let sixBit: Bool

    init(_ layout: QuantizedLayout) {
        let chunks = layout.paddedCols / 32
        fullSpans = chunks / 4
        lastWords = 4 * (chunks % 4)
        groups = layout.groupsPerRow
        chunksPerGroupShift = (layout.groupSize / 32).trailingZeroBitCount
        switch TilePrefetch.native {
        // A tile's codes over 2048 columns would push the activations out of L1.
        case .nonTemporalOnWideTiles: prefetch = chunks > 64 ? .nonTemporal : .none
        case .everyTile: prefetch = .farAhead
        }
        sixBit = layout.bits == 6
    }

    @inline(__always) func group(_ chunk: Int) -> Int { chunk &>> chunksPerGroupShift }

    enum LinePrefetch { case none, nonTemporal, farAhead }
}

/// The group parameters of a tile's 16 rows as vectors (lane = row), converted exactly as `QuantizedRow.scales16`
/// and `biases16` convert one row's, and the values those give for groups past the row (their masked loads).
struct TileParameters {
    /// The addresses of the tile's first row: its codes, scales, biases and row scales are the tile's.
    let row: QuantizedRow
    let rowScaled: Bool
    /// `.rowScaled`: the rows' `D`, and `D · offsetUnit` (`QuantizedRow.offsetScale`).
    let rowScales: __m512
    let offsetScales: __m512
    let scalesOfZero: __m512
    let biasesOfZero: __m512

    @inline(__always)
    init(_ row: QuantizedRow, rowScaled: Bool, offsetUnit: Float) {
        self.row = row
        self.rowScaled = rowScaled
        let zero = _mm512_setzero_ps()
        rowScales = rowScaled ? _mm512_loadu_ps(row.rowScaleAddress) : zero
        offsetScales = _mm512_mul_ps(rowScales, _mm512_set1_ps(offsetUnit))
        scalesOfZero = rowScaled ? _mm512_mul_ps(rowScales, zero) : zero
        biasesOfZero = rowScaled ? _mm512_mul_ps(_mm512_mul_ps(offsetScales, zero), zero) : zero
    }

    /// The 16 rows' scales of group `g`.
    @inline(__always)
    func scales(_ g: Int) -> __m512 {
        guard rowScaled else { return _mm512_cvtph_ps((row.scales + 32 &* g).loadUnaligned(as: __m256i.self)) }
        return _mm512_mul_ps(rowScales, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32((row.scales + 16 &* g).loadUnaligned(as: __m128i.self))))
    }

    /// The 16 rows' biases of group `g`.
    @inline(__always)
    func biases(_ g: Int) -> __m512 {
        guard rowScaled else { return _mm512_cvtph_ps((row.biases + 32 &* g).loadUnaligned(as: __m256i.self)) }
        let units = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32((row.scales + 16 &* g).loadUnaligned(as: __m128i.self)))
        let offsets = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32((row.biases + 16 &* g).loadUnaligned(as: __m128i.self)))
        return _mm512_mul_ps(_mm512_mul_ps(offsetScales, units), offsets)
    }
}
#endif
