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
}
