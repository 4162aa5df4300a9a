/// Everything a run holds besides the buffer pool, each part declared by the component that owns it, and the
/// plan that fits the pool into what the budget leaves.
///
/// The budget bounds peak RSS, so every byte that will be resident is counted: the process as measured (code,
/// runtime, metadata, tokenizer) with room for its growth (`ProcessBaseline`), each sequence's caches, the
/// activations, scratch buffers, and the file pages a reader may hold at once. The minimum a budget must cover is
/// these parts plus one streaming slot.
///
/// Each part also states the address space it takes, which is more than its resident bytes only for the process
/// itself (library pages never read, thread stacks' untouched pages): an address-space limit (`RLIMIT_AS`) must hold
/// the budget plus that difference.
public struct WorkingSet: Sendable {
    /// One component's bytes, e.g. ("KV cache and state", 16 MiB).
    public struct Part: Sendable, Equatable {
        public let label: String
        /// Resident bytes.
        public let bytes: Int
        /// Address space: at least `bytes`.
        public let addressSpace: Int

        public init(_ label: String, bytes: Int, addressSpace: Int? = nil) {
            self.label = label
            self.bytes = bytes
            self.addressSpace = max(addressSpace ?? bytes, bytes)
        }
    }

    public let parts: [Part]

    public init(_ parts: [Part]) {
        self.parts = parts
    }

    /// Resident bytes of all parts.
    public var bytes: Int { parts.reduce(0) { $0 + $1.bytes } }

    /// Address space of all parts.
    public var addressSpace: Int { parts.reduce(0) { $0 + $1.addressSpace } }

    /// What the process maps beyond its resident set: the address space a budget needs on top of itself.
    public var addressSpaceOverhead: Int { addressSpace - bytes }

    /// The plan that keeps the most bytes resident with the pool in what `budget` leaves.
    /// - Parameters:
    ///   - cycle: units in the order the model uses them.
    ///   - sizes: bytes each unit takes in memory (its slot size).
    ///   - addressSpaceLimit: the process's `RLIMIT_AS`, if any: the budget plus `addressSpaceOverhead` must fit it.
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum and its breakdown, or
    ///   `.addressSpaceLimitTooSmall` with the budget that would fit.
    public func plan(budget: MemoryBudget, cycle: [Int], sizes: [Int: Int], addressSpaceLimit: Int? = nil) throws -> StreamingPlan {
        let slot = StreamingPlan.minimumPoolBytes(cycle: cycle, sizes: sizes)
        let minimum = bytes + slot
        if let limit = addressSpaceLimit, budget.bytes + addressSpaceOverhead > limit {
            throw RuntimeError.addressSpaceLimitTooSmall(
                limit: limit, budget: budget.bytes, overhead: addressSpaceOverhead, minimum: minimum)
        }
        let available = budget.bytes - bytes
        if available > 0, let plan = StreamingPlan.make(cycle: cycle, sizes: sizes, available: available) {
            return plan
        }
        let breakdown = parts.map { "\($0.label) \(ByteCount.format($0.bytes))" } + ["one streaming slot \(ByteCount.format(slot))"]
        throw RuntimeError.budgetTooSmall(
            budget: budget.bytes, minimum: minimum,
            breakdown: breakdown.joined(separator: " + ") + "; address space \(ByteCount.format(addressSpaceOverhead)) more")
    }

    /// The budget an address-space limit leaves room for: the limit less `addressSpaceOverhead`.
    public func budget(fitting addressSpaceLimit: Int) -> MemoryBudget {
        MemoryBudget(bytes: max(addressSpaceLimit - addressSpaceOverhead, 0))
    }
}
