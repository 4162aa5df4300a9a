/// `e^x` sixteen lanes at a time, for the softmax of attention and the SiLU of every feed-forward block.
///
/// `expf` is a call per element: 8,192 of them per block for the SiLU of a 1B model's feed-forward and one per
/// cached position and head for the softmax, each about 5 ns, on the threads the products are waiting for.
extension VectorMath {
    /// `e^x` in each lane, within 2 ulp of `expf` where `expf` is a normal float: `x = n·ln 2 + r` with
    /// `|r| ≤ ln 2 / 2`, `e^r` from Cephes' degree-6 polynomial, `2^n` built in the exponent bits (as two
    /// factors, so that `n = −126` and `128` stay normal). Below −87.34, where `expf` gives subnormals, it gives 0;
    /// above 88.72, infinity; NaN stays NaN.
    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let low: Float = -87.336_54, high: Float = 88.722_83
        var clamped = x
        clamped.replace(with: SIMD16(repeating: low), where: x .< low)
        clamped.replace(with: SIMD16(repeating: high), where: x .> high)
        // n = round(x / ln 2): adding 1.5 · 2²³ rounds to an integer, which then sits in the low mantissa bits.
        let shifter: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + shifter
        let n = shifted - shifter
        // r = x − n·ln 2, with ln 2 in two parts so that n·ln2High is exact.
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        let whole = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = whole &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let scale2 = unsafeBitCast((whole &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
        var result = p * scale1 * scale2
        result.replace(with: SIMD16(repeating: 0), where: x .< low)
        result.replace(with: SIMD16(repeating: .infinity), where: x .> high)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// The `count` (< 16) floats from `p` in the first lanes, `fill` in the others: a row's tail, so that it takes
    /// the same vector steps as the rest.
    @inline(never)
    static func tail(_ p: UnsafePointer<Float>, count: Int, fill: Float) -> SIMD16<Float> {
        var v = SIMD16<Float>(repeating: fill)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// The first `count` (< 16) lanes of `v` to `p`.
    @inline(never)
    static func storeTail(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    // The loops below take whole vectors first and the tail once after: with one loop whose loads and stores
    // handle a partial vector, Swift 6.3 split the exponential's vector steps into lanes.

    /// In-place softmax over `count` elements.
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        let whole = count & ~15, rest = count - whole
        @inline(__always) func load(_ i: Int) -> SIMD16<Float> { UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) }
        var lanes = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i < whole {
            let v = load(i)
            lanes.replace(with: v, where: v .> lanes)
            i += 16
        }
        // Lanes past the end hold −∞, which neither wins the maximum nor adds to the sum (e^−∞ = 0).
        let last = rest > 0 ? tail(x + whole, count: rest, fill: -.infinity) : SIMD16(repeating: -.infinity)
        lanes.replace(with: last, where: last .> lanes)
        var maximum = -Float.infinity
        for lane in 0..<16 where lanes[lane] > maximum { maximum = lanes[lane] }
        let shift = SIMD16<Float>(repeating: maximum)
        var sums = SIMD16<Float>()
        i = 0
        while i < whole {
            let e = exp(load(i) - shift)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD16<Float>.self)
            sums += e
            i += 16
        }
        if rest > 0 {
            let e = exp(last - shift)
            storeTail(e, to: x + whole, count: rest)
            sums += e
        }
        let inverse = 1 / sums.sum()
        for i in 0..<count { x[i] *= inverse }
    }

    /// `gate[i] = silu(gate[i]) · up[i]` with `silu(g) = g / (1 + e^−g)`, the SwiGLU of a feed-forward block.
    static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, _ count: Int) {
        @inline(__always) func silu(_ g: SIMD16<Float>, _ u: SIMD16<Float>) -> SIMD16<Float> { g / (1 + exp(0 - g)) * u }
        let whole = count & ~15
        var i = 0
        while i < whole {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(gate + i).storeBytes(of: silu(g, u), as: SIMD16<Float>.self)
            i += 16
        }
        if count > whole {
            let rest = count - whole
            storeTail(silu(tail(gate + whole, count: rest, fill: 0), tail(up + whole, count: rest, fill: 0)), to: gate + whole, count: rest)
        }
    }
}
