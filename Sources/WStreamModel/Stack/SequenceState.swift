import WStreamFormat

/// What one sequence keeps for one block between forward passes.
enum BlockCache {
    /// What a family's block keeps (`ModelFamily.cache(ofBlock:)`).
    enum Kind: Sendable {
        /// Keys and values of every position so far (attention).
        case keyValue
        /// The last inputs of a causal convolution (LFM2's short convolution).
        case convolution
    }

    case keyValue(keys: KVCache, values: KVCache)
    case convolution(ConvolutionState)
}

/// One sequence: the cache of every block, and the number of positions consumed so far.
///
/// The KV caches are allocated for `capacity` positions at once (the budget counts them in full).
final class SequenceState {
    /// Positions the KV caches hold.
    let capacity: Int
    private(set) var position = 0
    private let caches: [BlockCache]

    /// Bytes the state of one sequence of `family` takes for `capacity` positions.
    static func byteCount(family: any ModelFamily, config: ModelConfig, capacity: Int, float16Cache: Bool) -> Int {
        (0..<config.layerCount).reduce(0) { total, layer in
            switch family.cache(ofBlock: layer) {
            case .keyValue: total + 2 * KVCache.byteCount(capacity: capacity, width: config.kvHeadCount * config.headDim, float16: float16Cache)
            case .convolution: total + ConvolutionState.byteCount(kernel: config.convKernelSize, hidden: config.hiddenSize)
            }
        }
    }

    /// - Parameter float16Cache: store keys and values as float16 (half the memory) rather than float32.
    init(family: any ModelFamily, config: ModelConfig, capacity: Int, float16Cache: Bool) {
        self.capacity = capacity
        caches = (0..<config.layerCount).map { layer in
            switch family.cache(ofBlock: layer) {
            case .keyValue:
                .keyValue(keys: KVCache(capacity: capacity, heads: config.kvHeadCount, headDim: config.headDim, float16: float16Cache),
                          values: KVCache(capacity: capacity, heads: config.kvHeadCount, headDim: config.headDim, float16: float16Cache))
            case .convolution:
                .convolution(ConvolutionState(kernel: config.convKernelSize, hidden: config.hiddenSize))
            }
        }
    }

    deinit {
        for cache in caches {
            if case .keyValue(let keys, let values) = cache {
                keys.deallocate()
                values.deallocate()
            }
        }
    }

    /// Block `layer`'s keys and values; the family declared it an attention block.
    func keyValue(_ layer: Int) -> (keys: KVCache, values: KVCache) {
        guard case .keyValue(let keys, let values) = caches[layer] else { preconditionFailure("block \(layer) keeps no KV cache") }
        return (keys, values)
    }

    /// Block `layer`'s convolution inputs; the family declared it a convolution block.
    func convolution(_ layer: Int) -> ConvolutionState {
        guard case .convolution(let state) = caches[layer] else { preconditionFailure("block \(layer) keeps no convolution state") }
        return state
    }

    /// Forgets the sequence: position 0, convolution states zeroed.
    func reset() {
        position = 0
        for cache in caches {
            if case .convolution(let state) = cache { state.reset() }
        }
    }

    /// Records that `count` more positions were consumed.
    func advance(by count: Int) {
        position += count
    }
}
