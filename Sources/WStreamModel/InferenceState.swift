import WStreamFormat

/// Per-sequence state: the KV cache of every attention block, the rolling inputs of every
/// short-convolution block, and the number of positions consumed so far.
final class InferenceState {
    /// Positions the KV cache holds.
    let capacity: Int
    private(set) var position = 0
    /// Keys and values per attention block: `[capacity][kvHeads·headDim]` each; nil for conv blocks.
    let keys: [UnsafeMutablePointer<Float>?]
    let values: [UnsafeMutablePointer<Float>?]
    /// The last `kernel − 1` convolution inputs per conv block, oldest first: `[kernel−1][hidden]`.
    let convolutionHistory: [UnsafeMutablePointer<Float>?]
    private let historyLength: Int
    private let hidden: Int

    /// Bytes the state of `config` takes for `capacity` positions (float32 throughout).
    static func byteCount(config: ModelConfig, capacity: Int) -> Int {
        let kvWidth = config.kvHeadCount * config.headDim
        return config.blockKinds.reduce(0) { total, kind in
            switch kind {
            case .attention: total + 2 * capacity * kvWidth * 4
            case .shortConv: total + max(config.convKernelSize - 1, 0) * config.hiddenSize * 4
            }
        }
    }

    init(config: ModelConfig, capacity: Int) {
        self.capacity = capacity
        hidden = config.hiddenSize
        let historyLength = max(config.convKernelSize - 1, 0)
        self.historyLength = historyLength
        let kvWidth = config.kvHeadCount * config.headDim
        keys = config.blockKinds.map { $0 == .attention ? .allocate(capacity: capacity * kvWidth) : nil }
        values = config.blockKinds.map { $0 == .attention ? .allocate(capacity: capacity * kvWidth) : nil }
        convolutionHistory = config.blockKinds.map { kind in
            guard kind == .shortConv else { return nil }
            let history = UnsafeMutablePointer<Float>.allocate(capacity: max(historyLength * config.hiddenSize, 1))
            history.initialize(repeating: 0, count: max(historyLength * config.hiddenSize, 1))
            return history
        }
    }

    deinit {
        for pointer in keys + values + convolutionHistory { pointer?.deallocate() }
    }

    /// Forgets the sequence: position 0, convolution history zeroed.
    func reset() {
        position = 0
        for history in convolutionHistory { history?.update(repeating: 0, count: max(historyLength * hidden, 1)) }
    }

    /// Records that `count` more positions were consumed.
    func advance(by count: Int) {
        position += count
    }
}
