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
        // B ⊙ v in place of B.
        for row in 0..<batch.rowCount {
            let projected = x.wide + row * 3 * hidden
            for c in 0..<hidden { projected[c] *= projected[2 * hidden + c] }
        }
        for segment in batch.segments {
            let history = segment.sequence.convolution(layer)
            let first = segment.rows.lowerBound
            /// The input at `time` rows after the segment's first (negative: from the sequence's history).
            func input(_ time: Int, _ channel: Int) -> Float {
                time >= 0 ? x.wide[(first + time) * 3 * hidden + channel] : history.inputs[(past + time) * hidden + channel]
            }
            for t in 0..<segment.rows.count {
                let gate = x.wide + (first + t) * 3 * hidden + hidden
                let out = x.attended + (first + t) * hidden
                for c in 0..<hidden {
                    var sum: Float = 0
                    for k in 0..<kernel { sum += taps[c * kernel + k] * input(t - past + k, c) }
                    out[c] = gate[c] * sum
                }
            }
            // Keep the newest `past` inputs for the next call.
            if past > 0 {
                var newest = [Float](repeating: 0, count: past * hidden)
                for slot in 0..<past {
                    for c in 0..<hidden { newest[slot * hidden + c] = input(segment.rows.count - past + slot, c) }
                }
                history.inputs.update(from: newest, count: newest.count)
            }
        }
    }
}
