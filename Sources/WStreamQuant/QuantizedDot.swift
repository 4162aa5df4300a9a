/// How a chunk of 32 columns' codes turns into two vectors of 16 floats (matching `PreparedInputs`' order).
protocol CodeFormat {
    static var bytesPerChunk: Int { get }
    static func decode(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
}

/// 16 bytes: low nibbles are the even columns, high nibbles the odd ones.
enum FourBitCodes: CodeFormat {
    static var bytesPerChunk: Int { 16 }
    @inline(__always)
    static func decode(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let q = p.loadUnaligned(as: SIMD16<UInt8>.self)
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
/// Groups alternate between two accumulators so that consecutive groups' FMAs do not wait on each other.
/// `four` performs exactly the same operations as `one` for each of its inputs, so a product with several
/// inputs equals the same products computed one at a time, bit for bit.
enum QuantizedDot<Codes: CodeFormat> {
    /// `q_g · x_g` as 16 partial sums for group `g`, codes and inputs starting at the group.
    @inline(__always)
    static func groupProduct(_ codes: UnsafeRawPointer, _ x: UnsafePointer<Float>, chunks: Int) -> SIMD16<Float> {
        let (a, b) = Codes.decode(codes)
        var p = (a * load16(x)).addingProduct(b, load16(x + 16))
        var c = 1
        while c < chunks {
            let (a, b) = Codes.decode(codes + c * Codes.bytesPerChunk)
            p = p.addingProduct(a, load16(x + 32 * c)).addingProduct(b, load16(x + 32 * c + 16))
            c += 1
        }
        return p
    }

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

    /// One row times one prepared input.
    @inline(__always)
    static func one(_ row: QuantizedRow, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, layout: QuantizedLayout) -> Float {
        let groups = layout.groupsPerRow, chunks = layout.groupSize / 32
        let groupCodeBytes = chunks * Codes.bytesPerChunk
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var g = 0
        while g + 2 <= groups {
            let p0 = groupProduct(row.codes + g * groupCodeBytes, x + g * layout.groupSize, chunks: chunks)
            let p1 = groupProduct(row.codes + (g + 1) * groupCodeBytes, x + (g + 1) * layout.groupSize, chunks: chunks)
            acc0 = acc0.addingProduct(p0, SIMD16(repeating: loadFloat16(row.scales, g)))
            acc1 = acc1.addingProduct(p1, SIMD16(repeating: loadFloat16(row.scales, g + 1)))
            g += 2
        }
        if g < groups {
            let p0 = groupProduct(row.codes + g * groupCodeBytes, x + g * layout.groupSize, chunks: chunks)
            acc0 = acc0.addingProduct(p0, SIMD16(repeating: loadFloat16(row.scales, g)))
        }
        return (acc0 + acc1).sum() + biasTerm(row.biases, sums, groups: groups)
    }

    /// One row times four prepared inputs: each group's codes are decoded once and used for all four.
    @inline(__always)
    static func four(_ row: QuantizedRow, _ inputs: PreparedInputs, first t: Int) -> SIMD4<Float> {
        let layout = inputs.layout
        let groups = layout.groupsPerRow, chunks = layout.groupSize / 32, size = layout.groupSize
        let groupCodeBytes = chunks * Codes.bytesPerChunk
        let x0 = inputs.values(t), x1 = inputs.values(t + 1), x2 = inputs.values(t + 2), x3 = inputs.values(t + 3)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>()
        var g = 0
        while g < groups {
            let codes = row.codes + g * groupCodeBytes
            let offset = g * size
            var (lo, hi) = Codes.decode(codes)
            var p0 = (lo * load16(x0 + offset)).addingProduct(hi, load16(x0 + offset + 16))
            var p1 = (lo * load16(x1 + offset)).addingProduct(hi, load16(x1 + offset + 16))
            var p2 = (lo * load16(x2 + offset)).addingProduct(hi, load16(x2 + offset + 16))
            var p3 = (lo * load16(x3 + offset)).addingProduct(hi, load16(x3 + offset + 16))
            var c = 1
            while c < chunks {
                (lo, hi) = Codes.decode(codes + c * Codes.bytesPerChunk)
                let o = offset + 32 * c
                p0 = p0.addingProduct(lo, load16(x0 + o)).addingProduct(hi, load16(x0 + o + 16))
                p1 = p1.addingProduct(lo, load16(x1 + o)).addingProduct(hi, load16(x1 + o + 16))
                p2 = p2.addingProduct(lo, load16(x2 + o)).addingProduct(hi, load16(x2 + o + 16))
                p3 = p3.addingProduct(lo, load16(x3 + o)).addingProduct(hi, load16(x3 + o + 16))
                c += 1
            }
            let scale = SIMD16<Float>(repeating: loadFloat16(row.scales, g))
            // Even groups into a*, odd into b*: the same split as `one`, so results match it exactly.
            if g & 1 == 0 {
                a0 = a0.addingProduct(p0, scale); a1 = a1.addingProduct(p1, scale)
                a2 = a2.addingProduct(p2, scale); a3 = a3.addingProduct(p3, scale)
            } else {
                b0 = b0.addingProduct(p0, scale); b1 = b1.addingProduct(p1, scale)
                b2 = b2.addingProduct(p2, scale); b3 = b3.addingProduct(p3, scale)
            }
            g += 1
        }
        return SIMD4(
            (a0 + b0).sum() + biasTerm(row.biases, inputs.sums(t), groups: groups),
            (a1 + b1).sum() + biasTerm(row.biases, inputs.sums(t + 1), groups: groups),
            (a2 + b2).sum() + biasTerm(row.biases, inputs.sums(t + 2), groups: groups),
            (a3 + b3).sum() + biasTerm(row.biases, inputs.sums(t + 3), groups: groups))
    }

    /// Rows `rows` times all prepared inputs into `y[t · yStride + r]`.
    ///
    /// Rows go in groups of 8 so that their codes stay in L1 while every tile of four inputs passes over them.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: PreparedInputs,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let fullTiles = inputs.count / 4 * 4
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(start + 8, rows.upperBound)
            var t = 0
            while t < fullTiles {
                for r in start..<end {
                    let v = four(addressing.row(r), inputs, first: t)
                    for k in 0..<4 { y[(t + k) * yStride + r] = v[k] }
                }
                t += 4
            }
            while t < inputs.count {
                for r in start..<end {
                    y[t * yStride + r] = one(addressing.row(r), inputs.values(t), inputs.sums(t), layout: addressing.layout)
                }
                t += 1
            }
            start = end
        }
    }
}
