import WStreamFormat

/// LFM2's gated short convolution, between its input and output projections: with `B, C, v` the three thirds of
/// `in_proj(x)`, it computes `C ⊙ conv(B ⊙ v)`, where `conv` is a depthwise causal convolution over time with
/// `kernel` taps.
///
/// Each sequence keeps the last `kernel − 1` inputs of the convolution (`B ⊙ v`) per channel
/// (`ConvolutionState`), so feeding a prompt at once, in chunks or token by token gives the same result.
enum ShortConvolution {
    /// Reads `x.wide [n, 3·hidden]` (rows `B | C | v`), writes `x.attended [n, hidden]`, and moves each segment's
    /// sequence state on by its rows.
    /// - Parameter taps: `[hidden][kernel]`; tap `kernel − 1` multiplies the newest input.
    static func apply(layer: Int, taps: UnsafePointer<Float>, batch: Batch, x: Activations, config: ModelConfig) {
        let hidden = config.hiddenSize
        let kernel = config.convKernelSize
        let past = kernel - 1
        let rowWidth = 3 * hidden
        // B ⊙ v in place of B.
        for row in 0..<batch.rowCount {
            let projected = x.wide + row * rowWidth
            for c in 0..<hidden { projected[c] *= projected[2 * hidden + c] }
        }
        // `kernel` ≥ 1: the family refuses a configuration without taps.
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: kernel) { inputs in
            let inputs = inputs.baseAddress!
            for segment in batch.segments {
                let history = segment.sequence.convolution(layer).inputs
                let first = segment.rows.lowerBound
                /// The convolution's input `time` rows after the segment's first (negative: from the sequence's history).
                func input(_ time: Int) -> UnsafePointer<Float> {
                    UnsafePointer(time >= 0 ? x.wide + (first + time) * rowWidth : history + (past + time) * hidden)
                }
                for t in 0..<segment.rows.count {
                    for k in 0..<kernel { inputs[k] = input(t - past + k) }
                    convolve(inputs, taps: taps, kernel: kernel, gate: x.wide + (first + t) * rowWidth + hidden,
                             into: x.attended + (first + t) * hidden, channels: hidden)
                }
                // Keep the newest `past` inputs for the next call. Slot `s` takes the input `count − past + s`, which is
                // a later history slot (never one already overwritten) or a row of this segment.
                for slot in 0..<past {
                    (history + slot * hidden).update(from: input(segment.rows.count - past + slot), count: hidden)
                }
            }
        }
    }

    /// `out[c] = gate[c] · Σ_k taps[c·kernel + k] · inputs[k][c]` for every channel, the taps summed oldest first.
    ///
    /// Sixteen channels at a time, each lane summing its channel in the scalar order, so results do not depend on
    /// where a channel falls.
    static func convolve(_ inputs: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Float>, kernel: Int,
                         gate: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, channels: Int) {
        var c = 0
        while c + 16 <= channels {
            var sum = SIMD16<Float>()
            for k in 0..<kernel {
                var weights = SIMD16<Float>()
                for lane in 0..<16 { weights[lane] = taps[(c + lane) * kernel + k] }
                sum += weights * UnsafeRawPointer(inputs[k] + c).loadUnaligned(as: SIMD16<Float>.self)
            }
            let product = UnsafeRawPointer(gate + c).loadUnaligned(as: SIMD16<Float>.self) * sum
            UnsafeMutableRawPointer(out + c).storeBytes(of: product, as: SIMD16<Float>.self)
            c += 16
        }
        while c < channels {
            var sum: Float = 0
            for k in 0..<kernel { sum += taps[c * kernel + k] * inputs[k][c] }
            out[c] = gate[c] * sum
            c += 1
        }
    }
}
