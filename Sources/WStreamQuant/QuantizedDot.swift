/// How a chunk of 32 columns' codes turns into two vectors of 16 floats (matching `PreparedInputs`' order).
protocol CodeFormat {
    /// Chunk `chunk` of the row of `chunks` chunks whose codes start at `row`.
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks: Int) -> (SIMD16<Float>, SIMD16<Float>)
}

/// 16 bytes: low nibbles are the even columns, high nibbles the odd ones.
///
/// Each half (8 bytes, 16 columns) is loaded on its own, so widening its two nibble planes to 32-bit lanes
/// takes one shuffle each and no extraction of upper bytes: two shuffles fewer per chunk than widening
/// 16 bytes at once, and shuffles are what this loop is short of. The result is
/// `(even columns 0–14, odd columns 1–15)` and `(even 16–30, odd 17–31)`, the order `PreparedInputs` uses.
enum FourBitCodes: CodeFormat {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks _: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        let p = row + 16 &* chunk
        let first = int32s(p.loadUnaligned(as: SIMD8<UInt8>.self))
        let second = int32s(p.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self))
        return (floats(SIMD16(lowHalf: first & 0x0F, highHalf: first &>> 4)),
                floats(SIMD16(lowHalf: second & 0x0F, highHalf: second &>> 4)))
    }
}

/// 32 bytes, one code per column.
enum EightBitCodes: CodeFormat {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks _: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        let p = row + 32 &* chunk
        return (floats(p.loadUnaligned(as: SIMD16<UInt8>.self)), floats(p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)))
    }
}

/// 16 nibble bytes as `FourBitCodes` has them, plus the top two bits of each code from its span's plane
/// (`SixBitCodes`): the chunk's 16 bytes of it, shifted by the chunk's place in the span.
enum SixBitFloatCodes: CodeFormat {
    @inline(__always)
    static func decode(_ row: UnsafeRawPointer, chunk: Int, chunks: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        let nibbles = row + SixBitCodes.nibbleOffset(chunk: chunk)
        let top = row + SixBitCodes.highOffset(chunk: chunk, chunks: chunks) + 16 &* (chunk & 1)
        let shift = Int32(truncatingIfNeeded: chunk & 2)
        @inline(__always) func half(_ offset: Int) -> SIMD16<Float> {
            let low = int32s(nibbles.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self))
            let high = int32s(top.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self)) &>> shift
            let evens = (low & 0x0F) | (high & 0x03) &<< 4, odds = low &>> 4 | (high &>> 4 & 0x03) &<< 4
            return floats(SIMD16(lowHalf: evens, highHalf: odds))
        }
        return (half(0), half(8))
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
    /// `q_g · x_g` as 16 partial sums for the group whose first chunk is `chunk` of the row `codes` and
    /// whose inputs start at `x`.
    @inline(__always)
    static func groupProduct(_ codes: UnsafeRawPointer, chunk: Int, rowChunks: Int, _ x: UnsafePointer<Float>, chunks: Int) -> SIMD16<Float> {
        let (a, b) = Codes.decode(codes, chunk: chunk, chunks: rowChunks)
        var p = (a * load16(x)).addingProduct(b, load16(x + 16))
        var k = 1
        while k < chunks {
            let (a, b) = Codes.decode(codes, chunk: chunk &+ k, chunks: rowChunks)
            p = p.addingProduct(a, load16(x + 32 * k)).addingProduct(b, load16(x + 32 * k + 16))
            k += 1
        }
        return p
    }

    /// One row times one prepared input; `chunks` is the group size / 32.
    @inline(__always)
    static func one(_ row: QuantizedRow, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, groups: Int, chunks: Int) -> Float {
        let groupFloats = 32 * chunks, rowChunks = groups &* chunks
        var chunk = 0, xp = x
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var g = 0
        while g + 2 <= groups {
            acc0 = acc0.addingProduct(groupProduct(row.codes, chunk: chunk, rowChunks: rowChunks, xp, chunks: chunks),
                                      SIMD16(repeating: row.scale(g)))
            acc1 = acc1.addingProduct(groupProduct(row.codes, chunk: chunk &+ chunks, rowChunks: rowChunks, xp + groupFloats, chunks: chunks),
                                      SIMD16(repeating: row.scale(g + 1)))
            chunk &+= 2 &* chunks
            xp += 2 * groupFloats
            g += 2
        }
        if g < groups {
            acc0 = acc0.addingProduct(groupProduct(row.codes, chunk: chunk, rowChunks: rowChunks, xp, chunks: chunks),
                                      SIMD16(repeating: row.scale(g)))
        }
        return horizontalSum(acc0 + acc1) + row.biasTerm(sums, groups: groups)
    }

    /// One row times four prepared inputs (prefill): each chunk is decoded and scaled once for all four.
    @inline(__always)
    static func fourInputs(_ row: QuantizedRow, _ inputs: PreparedInputs, first t: Int, groups: Int, chunks: Int) -> SIMD4<Float> {
        var x0 = inputs.values(t), x1 = inputs.values(t + 1), x2 = inputs.values(t + 2), x3 = inputs.values(t + 3)
        let rowChunks = groups &* chunks
        var chunk = 0
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        for g in 0..<groups {
            let s = SIMD16<Float>(repeating: row.scale(g))
            for _ in 0..<chunks {
                let (a, b) = Codes.decode(row.codes, chunk: chunk, chunks: rowChunks)
                let w0 = a * s, w1 = b * s
                a0 = a0.addingProduct(w0, load16(x0)).addingProduct(w1, load16(x0 + 16))
                a1 = a1.addingProduct(w0, load16(x1)).addingProduct(w1, load16(x1 + 16))
                a2 = a2.addingProduct(w0, load16(x2)).addingProduct(w1, load16(x2 + 16))
                a3 = a3.addingProduct(w0, load16(x3)).addingProduct(w1, load16(x3 + 16))
                chunk &+= 1
                x0 += 32; x1 += 32; x2 += 32; x3 += 32
            }
        }
        return SIMD4(
            horizontalSum(a0) + row.biasTerm(inputs.sums(t), groups: groups),
            horizontalSum(a1) + row.biasTerm(inputs.sums(t + 1), groups: groups),
            horizontalSum(a2) + row.biasTerm(inputs.sums(t + 2), groups: groups),
            horizontalSum(a3) + row.biasTerm(inputs.sums(t + 3), groups: groups))
    }

    /// Rows `rows` times all prepared inputs into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: PreparedInputs,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        // A constant chunk count lets the compiler unroll the group loops for the usual group sizes.
        switch addressing.layout.groupSize / 32 {
        case 1: product(rows, addressing, inputs, y, yStride: yStride, chunks: 1)
        case 2: product(rows, addressing, inputs, y, yStride: yStride, chunks: 2)
        case 4: product(rows, addressing, inputs, y, yStride: yStride, chunks: 4)
        case let chunks: product(rows, addressing, inputs, y, yStride: yStride, chunks: chunks)
        }
    }

    /// Rows go in groups of up to 8 within one block, so that their codes stay in L1 while every tile of
    /// four inputs passes over them, and so that rows are reached by stepping instead of dividing.
    @inline(__always)
    static func product(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: PreparedInputs,
                        _ y: UnsafeMutablePointer<Float>, yStride: Int, chunks: Int) {
        let layout = addressing.layout, groups = layout.groupsPerRow
        let fullTiles = inputs.count / 4 * 4
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(start + 8, rows.upperBound, addressing.nextBlockStart(after: start))
            let first = addressing.row(start)
            var t = 0
            while t < fullTiles {
                for r in start..<end {
                    let v = fourInputs(first.advanced(by: r - start, addressing), inputs, first: t, groups: groups, chunks: chunks)
                    for k in 0..<4 { y[(t + k) * yStride + r] = v[k] }
                }
                t += 4
            }
            while t < inputs.count {
                let x = inputs.values(t), sums = inputs.sums(t), out = y + t * yStride
                for r in start..<end {
                    out[r] = one(first.advanced(by: r - start, addressing), x, sums, groups: groups, chunks: chunks)
                }
                t += 1
            }
            start = end
        }
    }
}
