import WStreamFormat

/// Per-sequence state: the KV cache of every attention block, the rolling inputs of every
/// short-convolution block, and the number of positions consumed so far.
final class InferenceState {
    /// Positions the KV cache holds.
    let capacity: Int
    private(set) var position = 0
    /// Keys and values per attention block: `[capacity][kvHeads·headDim]` each; nil for conv blocks.
    let keys: [KVRows?]
    let values: [KVRows?]
    /// The last `kernel − 1` convolution inputs per conv block, oldest first: `[kernel−1][hidden]`.
    let convolutionHistory: [UnsafeMutablePointer<Float>?]
    private let historyLength: Int
    private let hidden: Int

    /// Bytes the state of `config` takes for `capacity` positions.
    static func byteCount(config: ModelConfig, capacity: Int, float16Cache: Bool) -> Int {
        let kvWidth = config.kvHeadCount * config.headDim
        return config.blockKinds.reduce(0) { total, kind in
            switch kind {
            case .attention: total + 2 * capacity * kvWidth * KVRows.elementSize(float16: float16Cache)
            case .shortConv: total + max(config.convKernelSize - 1, 0) * config.hiddenSize * 4
            }
        }
    }

    /// - Parameter float16Cache: store keys and values as float16 (half the memory) rather than float32.
    init(config: ModelConfig, capacity: Int, float16Cache: Bool) {
        self.capacity = capacity
        hidden = config.hiddenSize
        let historyLength = max(config.convKernelSize - 1, 0)
        self.historyLength = historyLength
        let kvWidth = config.kvHeadCount * config.headDim
        keys = config.blockKinds.map { $0 == .attention ? KVRows(capacity: capacity, width: kvWidth, float16: float16Cache) : nil }
        values = config.blockKinds.map { $0 == .attention ? KVRows(capacity: capacity, width: kvWidth, float16: float16Cache) : nil }
        convolutionHistory = config.blockKinds.map { kind in
            guard kind == .shortConv else { return nil }
            let history = UnsafeMutablePointer<Float>.allocate(capacity: max(historyLength * config.hiddenSize, 1))
            history.initialize(repeating: 0, count: max(historyLength * config.hiddenSize, 1))
            return history
        }
    }

    deinit {
        for rows in keys + values { rows?.deallocate() }
        for history in convolutionHistory { history?.deallocate() }
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
