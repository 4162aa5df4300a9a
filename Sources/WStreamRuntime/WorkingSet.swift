/// The memory a run needs besides the buffer pool, and the plan that fits the pool into what remains.
///
/// The budget bounds peak RSS, so everything that will be resident is counted: what the process holds
/// already (code, runtime, metadata, tokenizer), the KV cache, activations, scratch, and a margin for
/// what cannot be measured in advance (thread stacks touched later, allocator slack, file pages read
/// between two releases).
public struct WorkingSet: Sendable {
    /// Named fixed costs, e.g. ("process", 24 MiB), ("KV cache", 16 MiB).
    public var fixed: [(label: String, bytes: Int)]

    public init(fixed: [(label: String, bytes: Int)]) {
        self.fixed = fixed
    }

    public var fixedBytes: Int { fixed.reduce(0) { $0 + $1.bytes } }

    /// The plan for `budget`, or `RuntimeError.budgetTooSmall` stating the minimum.
    /// - Parameters:
    ///   - cycle: regions in the order the model uses them.
    ///   - sizes: decoded bytes of each region.
    public func plan(budget: MemoryBudget, cycle: [Int], sizes: [Int: Int]) throws -> StreamingPlan {
        let available = budget.bytes - fixedBytes
        if available > 0, let plan = StreamingPlan.make(cycle: cycle, sizes: sizes, available: available) {
            return plan
        }
        let slot = StreamingPlan.minimumPoolBytes(cycle: cycle, sizes: sizes)
        let parts = fixed.map { "\($0.label) \(ByteCount.format($0.bytes))" } + ["one streaming slot \(ByteCount.format(slot))"]
        throw RuntimeError.budgetTooSmall(budget: budget.bytes, minimum: fixedBytes + slot, breakdown: parts.joined(separator: " + "))
    }
}
