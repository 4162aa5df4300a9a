import Testing
@testable import WStreamModel
import WStreamQuant

/// The convolution's channel loop against the scalar definition, bit for bit: every lane sums its channel's taps
/// oldest first, in the vector part and in the tail alike.
@Suite struct ShortConvolutionTests {
    @Test(arguments: [1, 2, 3, 4]) func vectorsEqualTheScalarSumsExactly(kernel: Int) {
        let channels = 40  // two blocks of sixteen and a tail of eight
        var generator = SplitMix64(seed: UInt64(kernel))
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in (generator.nextFloat() - 0.5) * 3 } }
        let taps = values(channels * kernel), gate = values(channels)
        let rows = (0..<kernel).map { _ in values(channels) }
        var expected = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            var sum: Float = 0
            for k in 0..<kernel { sum += taps[c * kernel + k] * rows[k][c] }
            expected[c] = gate[c] * sum
        }
        var out = [Float](repeating: .nan, count: channels)
        let pointers = rows.map { row in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: channels)
            p.initialize(from: row, count: channels)
            return UnsafePointer(p)
        }
        defer { pointers.forEach { UnsafeMutablePointer(mutating: $0).deallocate() } }
        pointers.withUnsafeBufferPointer { inputs in
            ShortConvolution.convolve(inputs.baseAddress!, taps: taps, kernel: kernel, gate: gate, into: &out, channels: channels)
        }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
