/// How row-major stored floats load as float32.
protocol FloatElements {
    static func load16(_ p: UnsafeRawPointer, _ index: Int) -> SIMD16<Float>
    static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float
    static var byteWidth: Int { get }
}

enum Float32Elements: FloatElements {
    static var byteWidth: Int { 4 }
    @inline(__always) static func load16(_ p: UnsafeRawPointer, _ index: Int) -> SIMD16<Float> {
        p.loadUnaligned(fromByteOffset: 4 * index, as: SIMD16<Float>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        p.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
    }
}

enum Float16Elements: FloatElements {
    static var byteWidth: Int { 2 }
    @inline(__always) static func load16(_ p: UnsafeRawPointer, _ index: Int) -> SIMD16<Float> {
        floats(p.loadUnaligned(fromByteOffset: 2 * index, as: SIMD16<Float16>.self))
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        loadFloat16(p, index)
    }
}

/// SIMD dot products of f32/f16 rows with float32 inputs, accumulated in float32: 16 lanes, then a
/// horizontal sum, then the tail of fewer than 16 columns added in order.
enum FloatDot<Elements: FloatElements> {
    @inline(__always)
    static func one(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, cols: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var j = 0
        while j + 32 <= cols {
            acc0 = acc0.addingProduct(Elements.load16(w, j), load16(x + j))
            acc1 = acc1.addingProduct(Elements.load16(w, j + 16), load16(x + j + 16))
            j += 32
        }
        if j + 16 <= cols {
            acc0 = acc0.addingProduct(Elements.load16(w, j), load16(x + j))
            j += 16
        }
        var total = horizontalSum(acc0 + acc1)
        while j < cols {
            total = total.addingProduct(Elements.load1(w, j), x[j])
            j += 1
        }
        return total
    }

    /// One row times four inputs `x + k · xStride`: each weight vector is loaded (and converted) once for
    /// all four, with one accumulator per input so that all four fit AVX2's 16 vector registers.
    @inline(__always)
    static func four(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, xStride: Int, cols: Int) -> SIMD4<Float> {
        let x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var j = 0
        while j + 16 <= cols {
            let u = Elements.load16(w, j)
            a0 = a0.addingProduct(u, load16(x0 + j)); a1 = a1.addingProduct(u, load16(x1 + j))
            a2 = a2.addingProduct(u, load16(x2 + j)); a3 = a3.addingProduct(u, load16(x3 + j))
            j += 16
        }
        var total = SIMD4(horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3))
        while j < cols {
            let u = Elements.load1(w, j)
            total = SIMD4(
                total[0].addingProduct(u, x0[j]), total[1].addingProduct(u, x1[j]),
                total[2].addingProduct(u, x2[j]), total[3].addingProduct(u, x3[j]))
            j += 1
        }
        return total
    }

    /// Rows `rows` of a row-major matrix times inputs `x[n][cols]` into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let cols = w.cols, rowBytes = cols * Elements.byteWidth
        let fullTiles = n / 4 * 4
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(start + 8, rows.upperBound)
            var t = 0
            while t < fullTiles {
                for r in start..<end {
                    let v = four(w.base + r * rowBytes, x + t * cols, xStride: cols, cols: cols)
                    for k in 0..<4 { y[(t + k) * yStride + r] = v[k] }
                }
                t += 4
            }
            while t < n {
                for r in start..<end { y[t * yStride + r] = one(w.base + r * rowBytes, x + t * cols, cols: cols) }
                t += 1
            }
            start = end
        }
    }
}
