/// How a chunk of 32 columns' codes turns into two vectors of 16 floats (matching `PreparedInputs`' order).
protocol CodeFormat {
    static var bytesPerChunk: Int { get }
    static func decode(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
}

/// 16 bytes: low nibbles are the even columns, high nibbles the odd ones.
///
/// Bytes are widened to 32-bit lanes first and split into nibbles there: widening straight from memory
/// takes one shuffle per 8 bytes, while splitting bytes first would need extra shuffles per half.
enum FourBitCodes: CodeFormat {
    static var bytesPerChunk: Int { 16 }
    @inline(__always)
    static func decode(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let q = int32s(p.loadUnaligned(as: SIMD16<UInt8>.self))
        return (floats(q & 0x0F), floats(q &>> 4))
    }
}

/// 32 bytes, one code per column.
enum EightBitCodes: CodeFormat {
    static var bytesPerChunk: Int { 32 }
    @inline(__always)
    static func decode(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        (floats(p.loadUnaligned(as: SIMD16<UInt8>.self)), floats(p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)))
    }
}

/// SIMD dot products of quantised rows with prepared inputs:
/// `y = Σ_g scale_g · (q_g · x_g) + Σ_g bias_g · (Σ x_g)`.
///
/// Decode (`one`) is bound by converting codes and by FMA latency: groups alternate between two
/// accumulators so consecutive groups do not wait on each other. Prefill (`fourInputs`) multiplies each
/// chunk's codes by the scale once (`scale · q` is exact: an 11-bit fp16 significand times an 8-bit integer)
/// and adds it into one accumulator per input; with four inputs that is 8 of AVX2's 16 vector registers,
/// so nothing spills. The two orders of summation differ only by float32 rounding.
enum QuantizedDot<Codes: CodeFormat> {
    /// Chunk `k`'s codes times `scale`, as the two vectors matching `PreparedInputs`' order.
    @inline(__always)
    static func scaledChunk(_ row: QuantizedRow, _ k: Int, _ scale: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
        let (a, b) = Codes.decode(row.codes + k * Codes.bytesPerChunk)
        return (a * scale, b * scale)
    }

    @inline(__always)
    static func accumulate(_ acc: inout SIMD16<Float>, _ w: (SIMD16<Float>, SIMD16<Float>), _ x: UnsafePointer<Float>) {
        acc = acc.addingProduct(w.0, load16(x)).addingProduct(w.1, load16(x + 16))
    }

    @inline(__always)
    static func scale(_ row: QuantizedRow, _ g: Int) -> SIMD16<Float> { SIMD16(repeating: loadFloat16(row.scales, g)) }

    /// `Σ_g bias_g · sums_g`.
    @inline(__always)
    static func biasTerm(_ biases: UnsafeRawPointer, _ sums: UnsafePointer<Float>, groups: Int) -> Float {
        var acc = SIMD16<Float>()
        var g = 0
        while g + 16 <= groups {
            acc = acc.addingProduct(floats(biases.loadUnaligned(fromByteOffset: 2 * g, as: SIMD16<Float16>.self)), load16(sums + g))
            g += 16
        }
        var total = acc.sum()
        while g < groups {
            total = total.addingProduct(loadFloat16(biases, g), sums[g])
            g += 1
        }
        return total
    }

    /// `q_g · x_g` as 16 partial sums, codes and inputs starting at group `g`.
    @inline(__always)
    static func groupProduct(_ row: QuantizedRow, _ x: UnsafePointer<Float>, group g: Int, chunks: Int) -> SIMD16<Float> {
        let first = g * chunks
        let (a, b) = Codes.decode(row.codes + first * Codes.bytesPerChunk)
        var p = (a * load16(x + 32 * first)).addingProduct(b, load16(x + 32 * first + 16))
        for k in (first + 1)..<(first + chunks) {
            let (a, b) = Codes.decode(row.codes + k * Codes.bytesPerChunk)
            p = p.addingProduct(a, load16(x + 32 * k)).addingProduct(b, load16(x + 32 * k + 16))
        }
        return p
    }

    /// One row times one prepared input.
    @inline(__always)
    static func one(_ row: QuantizedRow, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, layout: QuantizedLayout) -> Float {
        let groups = layout.groupsPerRow, chunks = layout.groupSize / 32
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var g = 0
        while g + 2 <= groups {
            acc0 = acc0.addingProduct(groupProduct(row, x, group: g, chunks: chunks), scale(row, g))
            acc1 = acc1.addingProduct(groupProduct(row, x, group: g + 1, chunks: chunks), scale(row, g + 1))
            g += 2
        }
        if g < groups { acc0 = acc0.addingProduct(groupProduct(row, x, group: g, chunks: chunks), scale(row, g)) }
        return (acc0 + acc1).sum() + biasTerm(row.biases, sums, groups: groups)
    }

    /// One row times four prepared inputs (prefill): each chunk is decoded and scaled once for all four.
    @inline(__always)
    static func fourInputs(_ row: QuantizedRow, _ inputs: PreparedInputs, first t: Int) -> SIMD4<Float> {
        let layout = inputs.layout
        let chunks = layout.groupSize / 32, groups = layout.groupsPerRow
        let x0 = inputs.values(t), x1 = inputs.values(t + 1), x2 = inputs.values(t + 2), x3 = inputs.values(t + 3)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        for g in 0..<groups {
            let s = scale(row, g)
            for k in (g * chunks)..<((g + 1) * chunks) {
                let w = scaledChunk(row, k, s)
                accumulate(&a0, w, x0 + 32 * k)
                accumulate(&a1, w, x1 + 32 * k)
                accumulate(&a2, w, x2 + 32 * k)
                accumulate(&a3, w, x3 + 32 * k)
            }
        }
        return SIMD4(
            a0.sum() + biasTerm(row.biases, inputs.sums(t), groups: groups),
            a1.sum() + biasTerm(row.biases, inputs.sums(t + 1), groups: groups),
            a2.sum() + biasTerm(row.biases, inputs.sums(t + 2), groups: groups),
            a3.sum() + biasTerm(row.biases, inputs.sums(t + 3), groups: groups))
    }

    /// Rows `rows` times all prepared inputs into `y[t · yStride + r]`.
    ///
    /// Rows go in groups of 8 so that their codes stay in L1 while every tile of four inputs passes over them.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: PreparedInputs,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let layout = addressing.layout
        let fullTiles = inputs.count / 4 * 4
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(start + 8, rows.upperBound)
            var t = 0
            while t < fullTiles {
                for r in start..<end {
                    let v = fourInputs(addressing.row(r), inputs, first: t)
                    for k in 0..<4 { y[(t + k) * yStride + r] = v[k] }
                }
                t += 4
            }
            while t < inputs.count {
                for r in start..<end {
                    y[t * yStride + r] = one(addressing.row(r), inputs.values(t), inputs.sums(t), layout: layout)
                }
                t += 1
            }
            start = end
        }
    }
}
