#if WSTREAM_AVX512VNNI
import _Builtin_intrinsics.intel

/// The AVX-512 VNNI matrix product for many inputs (prefill): panels of 16 rows whose codes are transposed
/// once, so that each 32-bit lane of a vector holds one row.
///
/// `VNNIKernel` keeps a row's bytes in consecutive lanes, so every load of 64 code bytes needs its own
/// conversion, scale multiplication and accumulation per input: 2 `vpdpbusd` for 3 float operations. Here a
/// lane accumulates a whole chunk of its row (8 `vpdpbusd` against 4 activation bytes broadcast to all
/// lanes) before one conversion, one multiplication by the 16 rows' scales times the input's chunk scale,
/// and one accumulation, and the folded bias and the result come out per row without a horizontal sum.
///
/// A panel is packed once per pass into scratch (`PackedPanel`): per chunk 8 vectors (4-bit codes: 4
/// quads of low nibbles, 4 of high; 8-bit: 8 quads), per group the 16 rows' scales and biases as floats.
/// The packing, a 16 × 16 transpose of 32-bit words per load, is paid once for all inputs of the pass.
enum VNNIPanelKernel {
    static let panelRows = 16
    static let inputsPerTile = 8

    /// Rows `rows` times every input into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let layout = addressing.layout
        let chunksPerLoad = layout.bits == 4 ? 4 : 2
        let loads = (layout.paddedCols / 32 + chunksPerLoad - 1) / chunksPerLoad
        let scratchBytes = PackedPanel.byteCount(chunks: loads * chunksPerLoad, groups: layout.groupsPerRow)
        withUnsafeTemporaryAllocation(byteCount: scratchBytes, alignment: 64) { scratch in
            let panel = PackedPanel(scratch.baseAddress!, chunks: loads * chunksPerLoad, groups: layout.groupsPerRow)
            var first = rows.lowerBound
            while first < rows.upperBound {
                let count = min(panelRows, rows.upperBound - first)
                panel.pack(addressing, rows: first..<(first + count))
                let rowMask = count == panelRows ? UInt16.max : UInt16((1 << count) - 1)
                var t = 0
                while t < inputs.count {
                    let n = min(inputsPerTile, inputs.count - t)
                    let out = y + t * yStride + first
                    // A constant count lets the compiler drop the unused accumulators of full tiles.
                    if n == inputsPerTile {
                        tile(panel, layout, inputs, first: t, count: inputsPerTile, out, yStride: yStride, rowMask: rowMask)
                    } else {
                        tile(panel, layout, inputs, first: t, count: n, out, yStride: yStride, rowMask: rowMask)
                    }
                    t += n
                }
                first += count
            }
        }
    }

    /// The panel's 16 rows times inputs `t ..< t + count` (`count` ≤ 8).
    @inline(__always)
    private static func tile(_ panel: PackedPanel, _ layout: QuantizedLayout, _ inputs: QuantizedActivations, first t: Int,
                             count n: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int, rowMask: UInt16) {
        let fourBit = layout.bits == 4
        let chunks = layout.paddedCols / 32, chunksPerGroupShift = (layout.groupSize / 32).trailingZeroBitCount
        let lanes = inputs.lanesPerChunk
        // Inputs past `count` alias the last one; their accumulators are never used.
        @inline(__always) func input(_ k: Int) -> Int { t + min(k, n - 1) }
        let x0 = UnsafeRawPointer(inputs.codes(input(0))), x1 = UnsafeRawPointer(inputs.codes(input(1)))
        let x2 = UnsafeRawPointer(inputs.codes(input(2))), x3 = UnsafeRawPointer(inputs.codes(input(3)))
        let x4 = UnsafeRawPointer(inputs.codes(input(4))), x5 = UnsafeRawPointer(inputs.codes(input(5)))
        let x6 = UnsafeRawPointer(inputs.codes(input(6))), x7 = UnsafeRawPointer(inputs.codes(input(7)))
        let d0 = inputs.laneScales(input(0)), d1 = inputs.laneScales(input(1)), d2 = inputs.laneScales(input(2))
        let d3 = inputs.laneScales(input(3)), d4 = inputs.laneScales(input(4)), d5 = inputs.laneScales(input(5))
        let d6 = inputs.laneScales(input(6)), d7 = inputs.laneScales(input(7))
        var a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        for c in 0..<chunks {
            let w = panel.chunk(c)
            let w0 = _mm512_load_si512(w), w1 = _mm512_load_si512(w + 64), w2 = _mm512_load_si512(w + 128)
            let w3 = _mm512_load_si512(w + 192), w4 = _mm512_load_si512(w + 256), w5 = _mm512_load_si512(w + 320)
            let w6 = _mm512_load_si512(w + 384), w7 = _mm512_load_si512(w + 448)
            let s = _mm512_load_ps(panel.scales(c &>> chunksPerGroupShift))
            // Where the 8 quads' activations lie: 4-bit: the chunk's even columns among its span's 4 chunks,
            // then its odd columns 64 bytes on; 8-bit: the chunk's 32 columns in order.
            let low = fourBit ? (c &>> 2) &* 128 &+ 16 &* (c & 3) : 32 &* c
            let high = fourBit ? low &+ 64 : low &+ 16
            let lane = c &* lanes
            @inline(__always)
            func step(_ acc: __m512, _ x: UnsafeRawPointer, _ d: UnsafePointer<Float>) -> __m512 {
                let even = x + low, odd = x + high
                var p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, broadcast(even))
                p = _mm512_dpbusd_epi32(p, w1, broadcast(even + 4))
                p = _mm512_dpbusd_epi32(p, w2, broadcast(even + 8))
                p = _mm512_dpbusd_epi32(p, w3, broadcast(even + 12))
                p = _mm512_dpbusd_epi32(p, w4, broadcast(odd))
                p = _mm512_dpbusd_epi32(p, w5, broadcast(odd + 4))
                p = _mm512_dpbusd_epi32(p, w6, broadcast(odd + 8))
                p = _mm512_dpbusd_epi32(p, w7, broadcast(odd + 12))
                return _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(s, _mm512_set1_ps(d[lane])), acc)
            }
            a0 = step(a0, x0, d0)
            if n > 1 { a1 = step(a1, x1, d1) }
            if n > 2 { a2 = step(a2, x2, d2) }
            if n > 3 { a3 = step(a3, x3, d3) }
            if n > 4 { a4 = step(a4, x4, d4) }
            if n > 5 { a5 = step(a5, x5, d5) }
            if n > 6 { a6 = step(a6, x6, d6) }
            if n > 7 { a7 = step(a7, x7, d7) }
        }
        let e0 = inputs.groupSums(input(0)), e1 = inputs.groupSums(input(1)), e2 = inputs.groupSums(input(2))
        let e3 = inputs.groupSums(input(3)), e4 = inputs.groupSums(input(4)), e5 = inputs.groupSums(input(5))
        let e6 = inputs.groupSums(input(6)), e7 = inputs.groupSums(input(7))
        for g in 0..<layout.groupsPerRow {
            let b = _mm512_load_ps(panel.biases(g))
            a0 = _mm512_fmadd_ps(b, _mm512_set1_ps(e0[g]), a0)
            if n > 1 { a1 = _mm512_fmadd_ps(b, _mm512_set1_ps(e1[g]), a1) }
            if n > 2 { a2 = _mm512_fmadd_ps(b, _mm512_set1_ps(e2[g]), a2) }
            if n > 3 { a3 = _mm512_fmadd_ps(b, _mm512_set1_ps(e3[g]), a3) }
            if n > 4 { a4 = _mm512_fmadd_ps(b, _mm512_set1_ps(e4[g]), a4) }
            if n > 5 { a5 = _mm512_fmadd_ps(b, _mm512_set1_ps(e5[g]), a5) }
            if n > 6 { a6 = _mm512_fmadd_ps(b, _mm512_set1_ps(e6[g]), a6) }
            if n > 7 { a7 = _mm512_fmadd_ps(b, _mm512_set1_ps(e7[g]), a7) }
        }
        _mm512_mask_storeu_ps(out, rowMask, a0)
        if n > 1 { _mm512_mask_storeu_ps(out + yStride, rowMask, a1) }
        if n > 2 { _mm512_mask_storeu_ps(out + 2 * yStride, rowMask, a2) }
        if n > 3 { _mm512_mask_storeu_ps(out + 3 * yStride, rowMask, a3) }
        if n > 4 { _mm512_mask_storeu_ps(out + 4 * yStride, rowMask, a4) }
        if n > 5 { _mm512_mask_storeu_ps(out + 5 * yStride, rowMask, a5) }
        if n > 6 { _mm512_mask_storeu_ps(out + 6 * yStride, rowMask, a6) }
        if n > 7 { _mm512_mask_storeu_ps(out + 7 * yStride, rowMask, a7) }
    }

    /// Four activation bytes in every lane.
    @inline(__always)
    private static func broadcast(_ p: UnsafeRawPointer) -> __m512i {
        _mm512_set1_epi32(p.loadUnaligned(as: Int32.self))
    }
}

/// One panel of 16 rows in the order `VNNIPanelKernel` reads it, in scratch memory the caller provides:
/// per chunk 8 vectors of 16 lanes (lane = row), then per group the rows' scales and biases as floats.
private struct PackedPanel {
    let base: UnsafeMutableRawPointer
    /// Chunks packed: the row's chunks padded to whole loads of 64 code bytes.
    let chunks: Int
    let groups: Int

    static func byteCount(chunks: Int, groups: Int) -> Int { chunks * 512 + groups * 128 }

    init(_ base: UnsafeMutableRawPointer, chunks: Int, groups: Int) {
        self.base = base
        self.chunks = chunks
        self.groups = groups
    }

    /// The 8 vectors of chunk `c` (512 bytes).
    @inline(__always) func chunk(_ c: Int) -> UnsafeRawPointer { UnsafeRawPointer(base + 512 &* c) }
    @inline(__always) func scales(_ g: Int) -> UnsafePointer<Float> {
        UnsafePointer((base + chunks * 512 + 64 * g).assumingMemoryBound(to: Float.self))
    }
    @inline(__always) func biases(_ g: Int) -> UnsafePointer<Float> {
        UnsafePointer((base + chunks * 512 + groups * 64 + 64 * g).assumingMemoryBound(to: Float.self))
    }

    /// Packs `rows` (at most 16; missing rows repeat the last so every lane stays finite).
    func pack(_ addressing: QuantizedAddressing, rows: Range<Int>) {
        if rows.count == VNNIPanelKernel.panelRows && rows.upperBound <= addressing.tiledRows {
            return packTile(TileParameters(addressing.row(rows.lowerBound), rowScaled: addressing.rowScaled, offsetUnit: addressing.offsetUnit),
                            codeBytes: addressing.codeBytesPerRow)
        }
        let layout = addressing.layout
        let fourBit = layout.bits == 4
        let codeBytes = layout.codeBytesPerRow
        withUnsafeTemporaryAllocation(of: QuantizedRow.self, capacity: 16) { panelRows in
            for r in 0..<16 { panelRows.initializeElement(at: r, to: addressing.row(rows.lowerBound + min(r, rows.count - 1))) }
            transposeParameters(panelRows.baseAddress!, biases: false, into: base + chunks * 512)
            transposeParameters(panelRows.baseAddress!, biases: true, into: base + chunks * 512 + groups * 64)
            let nibble = _mm512_set1_epi8(0x0F)
            for load in 0..<(chunks * 32 * layout.bits / 8 / 64) {
                let offset = 64 &* load
                let mask: UInt64 = codeBytes - offset >= 64 ? .max : (1 << UInt64(codeBytes - offset)) - 1
                @inline(__always) func row(_ r: Int) -> __m512i { _mm512_maskz_loadu_epi8(mask, panelRows[r].codes + offset) }
                let q0 = quads(row(0), row(1), row(2), row(3)), q1 = quads(row(4), row(5), row(6), row(7))
                let q2 = quads(row(8), row(9), row(10), row(11)), q3 = quads(row(12), row(13), row(14), row(15))
                // Word j = 4b + k of the load, for every row, is block b of `blocks` of the k-th quads.
                let destination = base + (fourBit ? 2048 : 1024) &* load
                @inline(__always) func store(_ j: Int, _ word: __m512i) {
                    if fourBit {
                        // 4 chunks of 16 bytes: chunk j/4, quad j%4; its low nibbles first, then its high ones.
                        let chunk = destination + 512 * (j / 4)
                        _mm512_store_si512(chunk + 64 * (j % 4), _mm512_and_si512(word, nibble))
                        _mm512_store_si512(chunk + 256 + 64 * (j % 4), _mm512_and_si512(_mm512_srli_epi16(word, 4), nibble))
                    } else {
                        // 2 chunks of 32 bytes: chunk j/8, quad j%8.
                        _mm512_store_si512(destination + 64 * j, word)
                    }
                }
                let k0 = blocks(q0.0, q1.0, q2.0, q3.0)
                store(0, k0.0); store(4, k0.1); store(8, k0.2); store(12, k0.3)
                let k1 = blocks(q0.1, q1.1, q2.1, q3.1)
                store(1, k1.0); store(5, k1.1); store(9, k1.2); store(13, k1.3)
                let k2 = blocks(q0.2, q1.2, q2.2, q3.2)
                store(2, k2.0); store(6, k2.1); store(10, k2.2); store(14, k2.3)
                let k3 = blocks(q0.3, q1.3, q2.3, q3.3)
                store(3, k3.0); store(7, k3.1); store(11, k3.2); store(15, k3.3)
            }
        }
    }

    /// Packs an interleaved tile (`RowInterleaving`), whose words already lie as a panel's do: each is split into
    /// its nibbles, and the parameters are converted for 16 rows at once, to the values `pack` gives.
    private func packTile(_ tile: TileParameters, codeBytes: Int) {
        let nibble = _mm512_set1_epi8(0x0F), words = codeBytes / 4
        for c in 0..<chunks {
            for quad in 0..<4 {
                let word = 4 &* c &+ quad
                let codes = word < words ? _mm512_loadu_si512(tile.row.codes + 64 &* word) : _mm512_setzero_si512()
                _mm512_store_si512(base + (512 &* c &+ 64 &* quad), _mm512_and_si512(codes, nibble))
                _mm512_store_si512(base + (512 &* c &+ 256 &+ 64 &* quad), _mm512_and_si512(_mm512_srli_epi16(codes, 4), nibble))
            }
        }
        for g in 0..<groups {
            _mm512_store_ps(base + (chunks &* 512 &+ 64 &* g), tile.scales(g))
            _mm512_store_ps(base + (chunks &* 512 &+ groups &* 64 &+ 64 &* g), tile.biases(g))
        }
    }

    /// The rows' scales (or biases) as floats, 16 groups at a time: converted per row, then transposed
    /// so that group g's vector holds the 16 rows' values.
    @inline(__always)
    private func transposeParameters(_ rows: UnsafePointer<QuantizedRow>, biases: Bool, into destination: UnsafeMutableRawPointer) {
        var g = 0
        while g < groups {
            let mask: UInt16 = groups - g >= 16 ? .max : UInt16((1 << (groups - g)) - 1)
            @inline(__always) func row(_ r: Int) -> __m512i {
                _mm512_castps_si512(biases ? rows[r].biases16(g, mask: mask) : rows[r].scales16(g, mask: mask))
            }
            let q0 = quads(row(0), row(1), row(2), row(3)), q1 = quads(row(4), row(5), row(6), row(7))
            let q2 = quads(row(8), row(9), row(10), row(11)), q3 = quads(row(12), row(13), row(14), row(15))
            let vectors = destination + 64 * g
            let count = min(16, groups - g)
            @inline(__always) func store(_ j: Int, _ v: __m512i) { if j < count { _mm512_store_si512(vectors + 64 * j, v) } }
            let k0 = blocks(q0.0, q1.0, q2.0, q3.0)
            store(0, k0.0); store(4, k0.1); store(8, k0.2); store(12, k0.3)
            let k1 = blocks(q0.1, q1.1, q2.1, q3.1)
            store(1, k1.0); store(5, k1.1); store(9, k1.2); store(13, k1.3)
            let k2 = blocks(q0.2, q1.2, q2.2, q3.2)
            store(2, k2.0); store(6, k2.1); store(10, k2.2); store(14, k2.3)
            let k3 = blocks(q0.3, q1.3, q2.3, q3.3)
            store(3, k3.0); store(7, k3.1); store(11, k3.2); store(15, k3.3)
            g += 16
        }
    }

    /// Four rows' 16 words into 4 vectors: vector k holds, in each 128-bit block b, word 4b + k of the rows.
    @inline(__always)
    private func quads(_ r0: __m512i, _ r1: __m512i, _ r2: __m512i, _ r3: __m512i) -> (__m512i, __m512i, __m512i, __m512i) {
        let a0 = _mm512_unpacklo_epi32(r0, r1), a1 = _mm512_unpackhi_epi32(r0, r1)
        let a2 = _mm512_unpacklo_epi32(r2, r3), a3 = _mm512_unpackhi_epi32(r2, r3)
        return (_mm512_unpacklo_epi64(a0, a2), _mm512_unpackhi_epi64(a0, a2), _mm512_unpacklo_epi64(a1, a3), _mm512_unpackhi_epi64(a1, a3))
    }

    /// A 4 × 4 transpose of 128-bit blocks: result b holds block b of `g0`, `g1`, `g2`, `g3`.
    @inline(__always)
    private func blocks(_ g0: __m512i, _ g1: __m512i, _ g2: __m512i, _ g3: __m512i) -> (__m512i, __m512i, __m512i, __m512i) {
        let lowPairs = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), highPairs = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4)
        let lowHalves = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0), highHalves = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4)
        let u0 = _mm512_permutex2var_epi64(g0, lowPairs, g1), u1 = _mm512_permutex2var_epi64(g0, highPairs, g1)
        let v0 = _mm512_permutex2var_epi64(g2, lowPairs, g3), v1 = _mm512_permutex2var_epi64(g2, highPairs, g3)
        return (_mm512_permutex2var_epi64(u0, lowHalves, v0), _mm512_permutex2var_epi64(u0, highHalves, v0),
                _mm512_permutex2var_epi64(u1, lowHalves, v1), _mm512_permutex2var_epi64(u1, highHalves, v1))
    }
}
#endif
