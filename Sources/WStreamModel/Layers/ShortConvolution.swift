import WStreamFormat
import WStreamQuant

/// LFM2's gated short convolution: `out_proj(C ⊙ conv(B ⊙ x))` where `B, C, x = in_proj(h)`,
/// and `conv` is a depthwise causal convolution over time with `kernel` taps.
///
/// At decode time the block keeps the last `kernel − 1` inputs of the convolution (`B ⊙ x`) per channel
/// in `InferenceState.convolutionHistory`, so feeding a prompt at once or token by token gives the same result.
enum ShortConvolution {
    /// Reads `a.normed`, writes `a.blockOutput`.
    static func forward(layer: Int, weights: RegionWeights, config: ModelConfig, count: Int, state: InferenceState, scratch a: Activations, pool: ComputePool) throws {
        let hidden = config.hiddenSize
        let kernel = config.convKernelSize
        let taps = try weights.vector(TensorName.block(layer, .convWeight))  // [hidden][kernel]
        Linear.apply(try weights.matrix(TensorName.block(layer, .convInProjection)), a.normed, count: count, a.wide, pool: pool)

        // a.wide rows are [B | C | x], each `hidden` wide. Form B ⊙ x in place of B.
        for t in 0..<count {
            let row = a.wide + t * 3 * hidden
            for c in 0..<hidden { row[c] *= row[2 * hidden + c] }
        }

        // Causal convolution over the history followed by this chunk's inputs; result gated by C into a.attention.
        let history = state.convolutionHistory[layer]!
        let past = kernel - 1
        func input(_ time: Int, _ channel: Int) -> Float {
            time >= 0 ? a.wide[time * 3 * hidden + channel] : history[(past + time) * hidden + channel]
        }
        for t in 0..<count {
            let gate = a.wide + t * 3 * hidden + hidden
            let out = a.attention + t * hidden
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
                let time = count - past + slot
                for c in 0..<hidden { newest[slot * hidden + c] = input(time, c) }
            }
            history.update(from: newest, count: newest.count)
        }

        Linear.apply(try weights.matrix(TensorName.block(layer, .convOutProjection)), a.attention, count: count, a.blockOutput, pool: pool)
    }
}
