/// `e^x` sixteen lanes at a time, for the softmax of attention and the SiLU of every feed-forward block.
///
/// `expf` is a call per element: 8,192 of them per block for the SiLU of a 1B model's feed-forward and one per
/// cached position and head for the softmax, each about 5 ns, on the threads the products are waiting for.
extension VectorMath {
    /// `e^x` in each lane: `expf`'s result to the bit but in about one input of 13,000, and then 1 ulp away (a
    /// sweep over 59 million floats of −103.9…88.7).
    ///
    /// Computed in double precision, as glibc's `expf` is: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` from its
    /// Taylor polynomial to degree 10 (truncation error below 3·10⁻¹³), `2^n` built in the exponent bits, then
    /// rounded once to float, subnormals included. Below −103.98 it gives 0, above 88.72 infinity, NaN stays NaN.
    /// (A float version, within 2 ulp of `expf`, moved the stories260K agreement figures of `QuantizedAgreementTests`
    /// by a position in 256.)
    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let low: Float = -103.972_08, high: Float = 88.722_83
        var clamped = x
        clamped.replace(with: SIMD16(repeating: low), where: x .< low)
        clamped.replace(with: SIMD16(repeating: high), where: x .> high)
        // Lane by lane, which compiles to one `vcvtps2pd` per half; the stdlib's vector initialisers are calls.
        var lowHalf = SIMD8<Double>(), highHalf = SIMD8<Double>()
        for i in 0..<8 { lowHalf[i] = Double(clamped[i]); highHalf[i] = Double(clamped[i + 8]) }
        let lowExp = exp(lowHalf), highExp = exp(highHalf)
        var result = SIMD16<Float>()
        for i in 0..<8 { result[i] = Float(lowExp[i]); result[i + 8] = Float(highExp[i]) }
        result.replace(with: SIMD16(repeating: 0), where: x .< low)
        result.replace(with: SIMD16(repeating: .infinity), where: x .> high)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// `e^x` for `x` in −104…89 (`exp`'s clamped range), in double precision.
    @inline(__always)
    private static func exp(_ x: SIMD8<Double>) -> SIMD8<Double> {
        // n = round(x / ln 2): adding 1.5 · 2⁵² rounds to an integer, which then sits in the low mantissa bits.
        let shifter: Double = 6_755_399_441_055_744
        let shifted = x * 1.442_695_040_888_963_4 + shifter
        let n = shifted - shifter
        let r = x - n * 0.693_147_180_559_945_3
        var p = SIMD8<Double>(repeating: 1.0 / 3_628_800)
        for coefficient in [1.0 / 362_880, 1.0 / 40_320, 1.0 / 5_040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1] {
            p = p * r + coefficient
        }
        let whole = unsafeBitCast(shifted, to: SIMD8<Int64>.self) &- 0x4338_0000_0000_0000
        return p * unsafeBitCast((whole &+ 1023) &<< 52, to: SIMD8<Double>.self)
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
        i = 0
        while i < whole {
            UnsafeMutableRawPointer(x + i).storeBytes(of: exp(load(i) - shift), as: SIMD16<Float>.self)
            i += 16
        }
        if rest > 0 { storeTail(exp(last - shift), to: x + whole, count: rest) }
        // Summed in order, one after another, as the scalar softmax did: sixteen lanes summed apart moved every
        // attention weight in its last bits, and with them the stories260K agreement figures (a position in 256).
        var sum: Float = 0
        for i in 0..<count { sum += x[i] }
        let inverse = 1 / sum
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
