#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import WStreamModel
import WStreamQuant

@Suite struct VectorMathTests {
    /// Lengths around the 16-lane blocks, so that both the vector part and the tail are exercised.
    static let lengths = [1, 15, 16, 17, 33, 50257]

    @Test(arguments: lengths) func allFiniteFindsAnyInfinityOrNaN(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        var x = (0..<count).map { _ in (generator.nextFloat() - 0.5) * 1e30 }
        #expect(VectorMath.allFinite(x, count))
        for position in Set([0, count / 2, count - 1]) {
            for bad in [Float.infinity, -.infinity, .nan, -.nan, .signalingNaN] {
                let kept = x[position]
                x[position] = bad
                #expect(!VectorMath.allFinite(x, count), "\(bad) at \(position) of \(count)")
                x[position] = kept
            }
        }
        x[count - 1] = .greatestFiniteMagnitude
        x[0] = -.greatestFiniteMagnitude
        #expect(VectorMath.allFinite(x, count))
    }

    /// A maximum planted at each edge of the 16-lane blocks and in the tail, with a later copy that must not win.
    @Test(arguments: lengths) func firstMaximumFindsAPlantedMaximumAnywhere(count: Int) {
        var generator = SplitMix64(seed: 7 &+ UInt64(count))
        let base = (0..<count).map { _ in generator.nextFloat() }
        for position in Set([0, 14, 15, 16, 17, count - 17, count - 16, count - 2, count - 1].filter { $0 >= 0 && $0 < count }) {
            var x = base
            x[position] = 2
            if position + 1 < count { x[count - 1] = 2 }
            #expect(VectorMath.firstMaximum(x, count) == position, "at \(position) of \(count)")
        }
        // Zeros of both signs tie for the maximum: the first of either sign wins, as `>` never prefers +0 to -0.
        let zeros = (0..<count).map { _ -> Float in [-1, -0.0, 0][Int(generator.next() % 3)] }
        var expected = 0
        for i in 1..<count where zeros[i] > zeros[expected] { expected = i }
        #expect(VectorMath.firstMaximum(zeros, count) == expected)
    }

    @Test(arguments: lengths) func firstMaximumIsTheScalarScansChoice(count: Int) {
        var generator = SplitMix64(seed: 99 &+ UInt64(count))
        for round in 0..<20 {
            // Few distinct values, so that the maximum is often tied, across lanes and in the tail.
            var x = (0..<count).map { _ in Float(Int(generator.nextFloat() * 5)) - 2 }
            if round % 4 == 1 { x = x.map { _ in -.infinity } }
            var expected = 0
            for i in 1..<count where x[i] > x[expected] { expected = i }
            #expect(VectorMath.firstMaximum(x, count) == expected, "round \(round) of \(count)")
        }
    }

    /// Ulps between two floats of the same sign.
    static func ulps(_ a: Float, _ b: Float) -> Int {
        abs(Int(a.bitPattern) - Int(b.bitPattern))
    }

    /// `expf`'s result to the bit in all but a few lanes, and those 1 ulp away: in steps of about 1/1000 over the
    /// whole range, subnormal results included, and at the edges of the reduction.
    @Test func expMatchesExpf() {
        var inputs: [Float] = stride(from: Float(-103.9), through: 88.7, by: 0.000_97).map { $0 }
        for n in -149...127 {
            let x = Float(n) * 0.693_147_18
            inputs += [x, x.nextUp, x.nextDown, x + 0.346_573_59, x - 0.346_573_59]
        }
        inputs += [-103.972_08, -87.336_54, 88.722_83, 0, -0.0, .leastNormalMagnitude, -.leastNormalMagnitude, 1e-20]
        var differing = 0, worst = 0, worstAt: Float = 0
        for start in stride(from: 0, to: inputs.count, by: 16) {
            var v = SIMD16<Float>()
            for lane in 0..<min(16, inputs.count - start) { v[lane] = inputs[start + lane] }
            let e = VectorMath.exp(v)
            for lane in 0..<min(16, inputs.count - start) {
                let x = inputs[start + lane], difference = Self.ulps(e[lane], expf(x))
                if difference > 0 { differing += 1 }
                if difference > worst { (worst, worstAt) = (difference, x) }
            }
        }
        #expect(worst <= 1, "\(worst) ulp at \(worstAt)")
        #expect(differing * 1000 <= inputs.count, "\(differing) of \(inputs.count) differ from expf")
        #expect(VectorMath.exp(SIMD16(repeating: 0)) == SIMD16(repeating: 1))
    }

    /// Zero below −103.98 (where `expf` gives zero), subnormals as `expf` gives them, infinity above 88.72, NaN for NaN.
    @Test func expGivesZeroBelowItsRangeInfinityAboveAndNaNForNaN() {
        var x = SIMD16<Float>(repeating: 1)
        x[0] = -.infinity; x[1] = -1000; x[2] = -104; x[3] = .infinity; x[4] = 1000; x[5] = 88.8; x[6] = .nan; x[7] = 88.72
        x[8] = -88; x[9] = -100
        let e = VectorMath.exp(x)
        #expect(e[0] == 0 && e[1] == 0 && e[2] == 0)
        #expect(e[3] == .infinity && e[4] == .infinity && e[5] == .infinity)
        #expect(e[6].isNaN)
        #expect(e[7].isFinite && Self.ulps(e[7], expf(88.72)) <= 1)
        #expect(e[8].isSubnormal && Self.ulps(e[8], expf(-88)) <= 1)
        #expect(e[9].isSubnormal && Self.ulps(e[9], expf(-100)) <= 1)
    }

    /// The softmax of lengths around the blocks sums to 1 and matches one computed with `expf` in doubles.
    @Test(arguments: [1, 15, 16, 17, 33, 200]) func softmaxMatchesTheDefinition(count: Int) {
        var generator = SplitMix64(seed: 11 &+ UInt64(count))
        let x = (0..<count).map { _ in (generator.nextFloat() - 0.5) * 40 }
        var y = x
        VectorMath.softmax(&y, count)
        let maximum = x.max()!
        let exact = x.map { Glibc.exp(Double($0 - maximum)) }
        let total = exact.reduce(0, +)
        for i in 0..<count { #expect(abs(Double(y[i]) - exact[i] / total) <= 1e-6 * max(exact[i] / total, 1e-3), "\(i) of \(count)") }
        #expect(abs(Double(y.reduce(0, +)) - 1) < 1e-5)
    }

    /// Each element is `g / (1 + e^−g) · u`, to within the ulps of the exponential, tail included.
    @Test(arguments: [1, 15, 16, 17, 33]) func swiGLUMultipliesTheSiLUOfTheGateByUp(count: Int) {
        var generator = SplitMix64(seed: 23 &+ UInt64(count))
        let gate = (0..<count).map { _ in (generator.nextFloat() - 0.5) * 30 }
        let up = (0..<count).map { _ in generator.nextFloat() - 0.5 }
        var y = gate + [42]
        VectorMath.swiGLU(gate: &y, up: up, count)
        for i in 0..<count {
            let expected = Double(gate[i]) / (1 + Glibc.exp(-Double(gate[i]))) * Double(up[i])
            #expect(abs(Double(y[i]) - expected) <= 1e-6 * max(abs(expected), 1e-6), "\(i) of \(count)")
        }
        #expect(y[count] == 42, "nothing past the end is written")
    }
}
