/// Everything a run holds besides the buffer pool, each part declared by the component that owns it, and the
/// plan that fits the pool into what the budget leaves.
///
/// The budget bounds peak RSS, so every byte that will be resident is counted: the process as measured (code,
/// runtime, metadata, tokenizer) with room for its growth (`ProcessBaseline`), each sequence's caches, the
/// activations, scratch buffers, and the file pages a reader may hold between two releases. The minimum a budget
/// must cover is these parts plus one streaming slot.
public struct WorkingSet: Sendable {
    /// One component's bytes, e.g. ("KV cache and state", 16 MiB).
    public struct Part: Sendable, Equatable {
        public let label: String
        public let bytes: Int

        public init(_ label: String, bytes: Int) {
            self.label = label
            self.bytes = bytes
        }
    }

    public let parts: [Part]

    public init(_ parts: [Part]) {
        self.parts = parts
    }

    /// Bytes of all parts.
    public var bytes: Int { parts.reduce(0) { $0 + $1.bytes } }

    /// The plan that keeps the most bytes resident with the pool in what `budget` leaves.
    /// - Parameters:
    ///   - cycle: units in the order the model uses them.
    ///   - sizes: decoded bytes of each unit.
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum and its breakdown.
    public func plan(budget: MemoryBudget, cycle: [Int], sizes: [Int: Int]) throws -> StreamingPlan {
        let available = budget.bytes - bytes
        if available > 0, let plan = StreamingPlan.make(cycle: cycle, sizes: sizes, available: available) {
            return plan
        }
        let slot = StreamingPlan.minimumPoolBytes(cycle: cycle, sizes: sizes)
        let breakdown = parts.map { "\($0.label) \(ByteCount.format($0.bytes))" } + ["one streaming slot \(ByteCount.format(slot))"]
        throw RuntimeError.budgetTooSmall(budget: budget.bytes, minimum: bytes + slot, breakdown: breakdown.joined(separator: " + "))
    }
}
