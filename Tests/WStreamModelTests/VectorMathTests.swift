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
        #expect(VectorMath.allFinite(x, count))
    }

    @Test(arguments: lengths) func firstMaximumIsTheScalarScansChoice(count: Int) {
        var generator = SplitMix64(seed: 99 &+ UInt64(count))
        for round in 0..<20 {
            // Few distinct values, so that the maximum is often tied, across lanes and in the tail.
            var x = (0..<count).map { _ in Float(Int(generator.nextFloat() * 5)) - 2 }
            if round % 4 == 1 { x = x.map { $0 == 0 ? -0.0 : $0 } }
            if round % 4 == 2 { x = x.map { _ in -.infinity } }
            var expected = 0
            for i in 1..<count where x[i] > x[expected] { expected = i }
            #expect(VectorMath.firstMaximum(x, count) == expected, "round \(round) of \(count)")
        }
    }
}
