/// One attention block's cached keys (or values) for one sequence, in float32 or float16: each key-value head's rows
/// together, `[heads][capacity][headDim]`.
///
/// A head's rows one after another let a query head read them as one stream: attention reads the cache from memory
/// every token (the token's weights have pushed it out of the caches). With the rows of all heads side by side, a
/// head's 128 bytes of each a kilobyte apart, attention took 1.1× as long at 500 tokens of context (LFM2-1.2B), and
/// 1.4–1.6× with a key-value head's query heads on one thread. Float16 halves the cache, which the memory budget
/// counts in full for the whole context; float32 is kept for `--bits 32` models so that they compute in float32
/// throughout, as the exactness tests need.
struct KVCache: @unchecked Sendable {
    let heads: Int
    let headDim: Int
    let capacity: Int
    let isFloat16: Bool
    private let base: UnsafeMutableRawPointer

    /// Bytes of one element.
    static func elementSize(float16: Bool) -> Int { float16 ? 2 : 4 }

    /// Bytes a cache of `capacity` rows of `width` elements (all heads) takes.
    static func byteCount(capacity: Int, width: Int, float16: Bool) -> Int { capacity * width * elementSize(float16: float16) }

    init(capacity: Int, heads: Int, headDim: Int, float16: Bool) {
        self.heads = heads
        self.headDim = headDim
        self.capacity = capacity
        isFloat16 = float16
        base = .allocate(byteCount: max(Self.byteCount(capacity: capacity, width: heads * headDim, float16: float16), 1), alignment: 64)
    }

    func deallocate() { base.deallocate() }

    /// Writes `source[heads · headDim]` (every head's part, head after head) as row `row`.
    func store(row: Int, from source: UnsafePointer<Float>) {
        for head in 0..<heads {
            let from = source + head * headDim, at = (head * capacity + row) * headDim
            if isFloat16 {
                let destination = base.assumingMemoryBound(to: Float16.self) + at
                for i in 0..<headDim { destination[i] = Float16(from[i]) }
            } else {
                (base.assumingMemoryBound(to: Float.self) + at).update(from: from, count: headDim)
            }
        }
    }

    /// `scores_h[j] = scale · Σᵢ q_h[i] · row_j[i]` over head `head`'s first `rows` rows (`headDim` elements each), for
    /// the `queryHeads` query heads that share it: query head `h`'s `q + h · headDim` into `scores + h · scoreStride`.
    ///
    /// Four rows run side by side, so that four independent chains of multiply-adds hide each other's latency; each
    /// row sums its 8 lanes, then the tail. Four query heads at a time take each cached row once (converted from
    /// float16 once for the four, two rows at a time), each head's sums in the same steps as alone.
    func scores(_ q: UnsafePointer<Float>, queryHeads: Int, rows: Int, head: Int, scale: Float,
                into scores: UnsafeMutablePointer<Float>, scoreStride: Int) {
        if isFloat16 {
            headRows(head, as: Float16.self).scores(q, queryHeads: queryHeads, queryStride: headDim, rows: rows, count: headDim,
                                                    scale: scale, into: scores, scoreStride: scoreStride)
        } else {
            headRows(head, as: Float.self).scores(q, queryHeads: queryHeads, queryStride: headDim, rows: rows, count: headDim,
                                                  scale: scale, into: scores, scoreStride: scoreStride)
        }
    }

    /// `out_h[i] = Σⱼ weights_h[j] · row_j[i]` over head `head`'s first `rows` rows, for its `headDim` elements, for the
    /// `queryHeads` query heads that share it: weights `weights + h · weightStride` into `out + h · headDim`.
    ///
    /// 64 elements at a time stay in registers (four 16-lane sums) while every row is added in, in row order. On
    /// AVX-512 builds four heads at a time convert each cached row once: their 16 sums of 16 lanes fill half of the
    /// 32 vector registers, where AVX2's 16 would spill them; elsewhere one head at a time. Each head's sums take the
    /// same steps either way.
    func mix(_ weights: UnsafePointer<Float>, weightStride: Int, queryHeads: Int, rows: Int, head: Int, into out: UnsafeMutablePointer<Float>) {
        if isFloat16 {
            headRows(head, as: Float16.self).mix(weights, weightStride: weightStride, queryHeads: queryHeads, rows: rows, count: headDim,
                                                 into: out, outStride: headDim)
        } else {
            headRows(head, as: Float.self).mix(weights, weightStride: weightStride, queryHeads: queryHeads, rows: rows, count: headDim,
                                               into: out, outStride: headDim)
        }
    }

    /// Head `head`'s rows, `headDim` elements each.
    @inline(__always)
    private func headRows<Element: CacheElement>(_ head: Int, as _: Element.Type) -> CacheRows<Element> {
        CacheRows(base: base, width: headDim, offset: head * capacity * headDim)
    }
}

/// An element type a cache stores, read as float32.
private protocol CacheElement {
    static func floats8(_ p: UnsafePointer<Self>) -> SIMD8<Float>
    static func floats16(_ p: UnsafePointer<Self>) -> SIMD16<Float>
    static func float(_ p: UnsafePointer<Self>) -> Float
}

extension Float: CacheElement {
    @inline(__always) static func floats8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always) static func floats16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
    @inline(__always) static func float(_ p: UnsafePointer<Float>) -> Float { p.pointee }
}

extension Float16: CacheElement {
    // Lane by lane, which compiles to one `vcvtph2ps`; the stdlib's vector initialisers are calls.
    @inline(__always) static func floats8(_ p: UnsafePointer<Float16>) -> SIMD8<Float> {
        let halves = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self)
        var result = SIMD8<Float>()
        for i in 0..<8 { result[i] = Float(halves[i]) }
        return result
    }
    @inline(__always) static func floats16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
        let halves = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
        var result = SIMD16<Float>()
        for i in 0..<16 { result[i] = Float(halves[i]) }
        return result
    }
    @inline(__always) static func float(_ p: UnsafePointer<Float16>) -> Float { Float(p.pointee) }
}

/// The rows of one cache, each read from `offset` on, as elements of type `Element`.
private struct CacheRows<Element: CacheElement> {
    let first: UnsafePointer<Element>
    let width: Int

    @inline(__always)
    init(base: UnsafeMutableRawPointer, width: Int, offset: Int) {
        first = UnsafePointer(base.assumingMemoryBound(to: Element.self)) + offset
        self.width = width
    }

    @inline(__always)
    func row(_ j: Int) -> UnsafePointer<Element> { first + j &* width }

    @inline(__always)
    func scores(_ q: UnsafePointer<Float>, rows: Int, count: Int, scale: Float, into scores: UnsafeMutablePointer<Float>) {
        let whole = count & ~7
        var j = 0
        while j + 4 <= rows {
            let r0 = row(j), r1 = row(j + 1), r2 = row(j + 2), r3 = row(j + 3)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var i = 0
            while i < whole {
                let x = Float.floats8(q + i)
                a0 = a0.addingProduct(x, Element.floats8(r0 + i))
                a1 = a1.addingProduct(x, Element.floats8(r1 + i))
                a2 = a2.addingProduct(x, Element.floats8(r2 + i))
                a3 = a3.addingProduct(x, Element.floats8(r3 + i))
                i += 8
            }
            scores[j] = tail(treeSum(a0), q, r0, from: whole, count) * scale
            scores[j + 1] = tail(treeSum(a1), q, r1, from: whole, count) * scale
            scores[j + 2] = tail(treeSum(a2), q, r2, from: whole, count) * scale
            scores[j + 3] = tail(treeSum(a3), q, r3, from: whole, count) * scale
            j += 4
        }
        while j < rows {
            let r = row(j)
            var a = SIMD8<Float>()
            var i = 0
            while i < whole {
                a = a.addingProduct(Float.floats8(q + i), Element.floats8(r + i))
                i += 8
            }
            scores[j] = tail(treeSum(a), q, r, from: whole, count) * scale
            j += 1
        }
    }

    /// `scores` for `queryHeads` queries `q + h · queryStride` into `scores + h · scoreStride`: four at a time, then
    /// one at a time.
    @inline(__always)
    func scores(_ q: UnsafePointer<Float>, queryHeads: Int, queryStride: Int, rows: Int, count: Int, scale: Float,
                into scores: UnsafeMutablePointer<Float>, scoreStride: Int) {
        var h = 0
        while h + 4 <= queryHeads {
            scores4(q + h &* queryStride, queryStride: queryStride, rows: rows, count: count, scale: scale,
                    into: scores + h &* scoreStride, scoreStride: scoreStride)
            h += 4
        }
        for h in h..<queryHeads {
            self.scores(q + h &* queryStride, rows: rows, count: count, scale: scale, into: scores + h &* scoreStride)
        }
    }

    /// `scores` for four queries `q + h · queryStride` into `scores + h · scoreStride`, two rows at a time: each row's
    /// chunk is converted once and multiplied into the four heads' sums, which take the same steps as `scores`.
    @inline(__always)
    private func scores4(_ q: UnsafePointer<Float>, queryStride: Int, rows: Int, count: Int, scale: Float,
                 into scores: UnsafeMutablePointer<Float>, scoreStride: Int) {
        let whole = count & ~7
        let q0 = q, q1 = q + queryStride, q2 = q + 2 &* queryStride, q3 = q + 3 &* queryStride
        var j = 0
        while j < rows {
            // A last odd row is computed twice, as its own pair; only once is it stored.
            let second = min(j + 1, rows - 1)
            let r0 = row(j), r1 = row(second)
            var a00 = SIMD8<Float>(), a10 = SIMD8<Float>(), a20 = SIMD8<Float>(), a30 = SIMD8<Float>()
            var a01 = SIMD8<Float>(), a11 = SIMD8<Float>(), a21 = SIMD8<Float>(), a31 = SIMD8<Float>()
            var i = 0
            while i < whole {
                let k0 = Element.floats8(r0 + i), k1 = Element.floats8(r1 + i)
                let x0 = Float.floats8(q0 + i), x1 = Float.floats8(q1 + i), x2 = Float.floats8(q2 + i), x3 = Float.floats8(q3 + i)
                a00 = a00.addingProduct(x0, k0); a01 = a01.addingProduct(x0, k1)
                a10 = a10.addingProduct(x1, k0); a11 = a11.addingProduct(x1, k1)
                a20 = a20.addingProduct(x2, k0); a21 = a21.addingProduct(x2, k1)
                a30 = a30.addingProduct(x3, k0); a31 = a31.addingProduct(x3, k1)
                i += 8
            }
            scores[j] = tail(treeSum(a00), q0, r0, from: whole, count) * scale
            scores[scoreStride + j] = tail(treeSum(a10), q1, r0, from: whole, count) * scale
            scores[2 &* scoreStride + j] = tail(treeSum(a20), q2, r0, from: whole, count) * scale
            scores[3 &* scoreStride + j] = tail(treeSum(a30), q3, r0, from: whole, count) * scale
            if second > j {
                scores[second] = tail(treeSum(a01), q0, r1, from: whole, count) * scale
                scores[scoreStride + second] = tail(treeSum(a11), q1, r1, from: whole, count) * scale
                scores[2 &* scoreStride + second] = tail(treeSum(a21), q2, r1, from: whole, count) * scale
                scores[3 &* scoreStride + second] = tail(treeSum(a31), q3, r1, from: whole, count) * scale
            }
            j += 2
        }
    }

    /// The 8 lanes summed as a tree of vector adds (`SIMD8.sum()` adds them one after another).
    @inline(__always)
    private func treeSum(_ v: SIMD8<Float>) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// `sum` plus the products of elements `from ..< count`.
    @inline(__always)
    private func tail(_ sum: Float, _ q: UnsafePointer<Float>, _ r: UnsafePointer<Element>, from: Int, _ count: Int) -> Float {
        var sum = sum
        for i in from..<count { sum += q[i] * Element.float(r + i) }
        return sum
    }

    @inline(__always)
    func mix(_ weights: UnsafePointer<Float>, rows: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 64 <= count {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            for j in 0..<rows {
                let w = SIMD16<Float>(repeating: weights[j]), r = row(j) + i
                a0 = a0.addingProduct(w, Element.floats16(r))
                a1 = a1.addingProduct(w, Element.floats16(r + 16))
                a2 = a2.addingProduct(w, Element.floats16(r + 32))
                a3 = a3.addingProduct(w, Element.floats16(r + 48))
            }
            store(a0, a1, a2, a3, to: out + i)
            i += 64
        }
        mixRest(weights, rows: rows, from: i, count: count, into: out)
    }

    /// `mix` for `queryHeads` heads' weights `weights + h · weightStride` into `out + h · outStride`: four at a time on
    /// AVX-512 builds, then one at a time.
    @inline(__always)
    func mix(_ weights: UnsafePointer<Float>, weightStride: Int, queryHeads: Int, rows: Int, count: Int,
             into out: UnsafeMutablePointer<Float>, outStride: Int) {
        #if WSTREAM_AVX512VNNI
        var h = 0
        while h + 4 <= queryHeads {
            mix4(weights + h &* weightStride, weightStride: weightStride, rows: rows, count: count, into: out + h &* outStride,
                 outStride: outStride)
            h += 4
        }
        #else
        let h = 0
        #endif
        for h in h..<queryHeads { mix(weights + h &* weightStride, rows: rows, count: count, into: out + h &* outStride) }
    }

    /// `mix` for four heads' weights `weights + h · weightStride` into `out + h · outStride`: 64 elements of each
    /// row are converted once and added into the four heads' sums (16 vectors, in registers on AVX-512), which take
    /// the same steps as `mix`.
    @inline(__always)
    private func mix4(_ weights: UnsafePointer<Float>, weightStride: Int, rows: Int, count: Int, into out: UnsafeMutablePointer<Float>, outStride: Int) {
        let w0 = weights, w1 = weights + weightStride, w2 = weights + 2 &* weightStride, w3 = weights + 3 &* weightStride
        var i = 0
        while i + 64 <= count {
            var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
            var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
            var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
            var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
            for j in 0..<rows {
                let r = row(j) + i
                let v0 = Element.floats16(r), v1 = Element.floats16(r + 16), v2 = Element.floats16(r + 32), v3 = Element.floats16(r + 48)
                let s0 = SIMD16<Float>(repeating: w0[j]), s1 = SIMD16<Float>(repeating: w1[j])
                let s2 = SIMD16<Float>(repeating: w2[j]), s3 = SIMD16<Float>(repeating: w3[j])
                a00 = a00.addingProduct(s0, v0); a01 = a01.addingProduct(s0, v1); a02 = a02.addingProduct(s0, v2); a03 = a03.addingProduct(s0, v3)
                a10 = a10.addingProduct(s1, v0); a11 = a11.addingProduct(s1, v1); a12 = a12.addingProduct(s1, v2); a13 = a13.addingProduct(s1, v3)
                a20 = a20.addingProduct(s2, v0); a21 = a21.addingProduct(s2, v1); a22 = a22.addingProduct(s2, v2); a23 = a23.addingProduct(s2, v3)
                a30 = a30.addingProduct(s3, v0); a31 = a31.addingProduct(s3, v1); a32 = a32.addingProduct(s3, v2); a33 = a33.addingProduct(s3, v3)
            }
            store(a00, a01, a02, a03, to: out + i)
            store(a10, a11, a12, a13, to: out + outStride + i)
            store(a20, a21, a22, a23, to: out + 2 &* outStride + i)
            store(a30, a31, a32, a33, to: out + 3 &* outStride + i)
            i += 64
        }
        for h in 0..<4 { mixRest(weights + h &* weightStride, rows: rows, from: i, count: count, into: out + h &* outStride) }
    }

    /// Four vectors to `p` one after another.
    @inline(__always)
    private func store(_ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>, _ a3: SIMD16<Float>, to p: UnsafeMutablePointer<Float>) {
        let o = UnsafeMutableRawPointer(p)
        o.storeBytes(of: a0, as: SIMD16<Float>.self)
        o.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
        o.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
        o.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
    }

    /// `mix`'s elements `from ..< count` (fewer than 64 whole ones): eight at a time, then one at a time.
    @inline(__always)
    private func mixRest(_ weights: UnsafePointer<Float>, rows: Int, from: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        var i = from
        while i + 8 <= count {
            var acc = SIMD8<Float>()
            for j in 0..<rows { acc = acc.addingProduct(SIMD8(repeating: weights[j]), Element.floats8(row(j) + i)) }
            UnsafeMutableRawPointer(out + i).storeBytes(of: acc, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            var acc: Float = 0
            for j in 0..<rows { acc += weights[j] * Element.float(row(j) + i) }
            out[i] = acc
            i += 1
        }
    }
}
