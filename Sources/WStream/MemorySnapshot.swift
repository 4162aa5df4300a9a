/// How much of the engine's memory is in place.
public enum LoadState: String, Sendable, Equatable {
    /// No pool, no KV cache: only the file mapping and the tokenizer.
    case unloaded
    /// A `load` is planning or filling the pool.
    case loading
    /// Ready to generate.
    case loaded
}

/// The engine's memory at one moment, for health reports.
public struct MemorySnapshot: Sendable, Equatable {
    public var state: LoadState
    /// The buffer pool (resident regions and streaming slots).
    public var poolBytes: Int
    /// The KV cache and recurrent state of the sequences the engine holds.
    public var kvBytes: Int
    /// The allowance the engine was last loaded with, nil when loaded under a whole-process budget or none.
    public var allowanceBytes: Int?

    /// A snapshot of the given figures.
    public init(state: LoadState, poolBytes: Int, kvBytes: Int, allowanceBytes: Int?) {
        self.state = state
        self.poolBytes = poolBytes
        self.kvBytes = kvBytes
        self.allowanceBytes = allowanceBytes
    }

    /// Nothing loaded.
    public static let unloaded = MemorySnapshot(state: .unloaded, poolBytes: 0, kvBytes: 0, allowanceBytes: nil)
}
