/// Why the runtime cannot start or continue within its budget.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// The budget text could not be parsed.
    case invalidBudget(String)
    /// The budget is below the minimum working set; `minimum` is what it would take.
    case budgetTooSmall(budget: Int, minimum: Int, breakdown: String)
    /// The address-space limit (`RLIMIT_AS`) cannot hold the budget and what the process maps beyond its resident set.
    case addressSpaceLimitTooSmall(limit: Int, budget: Int, overhead: Int, minimum: Int)
    /// The process was already above the budget before the pool was allocated.
    case alreadyOverBudget(budget: Int, peak: Int)
    /// No memory cgroup can be made for child processes here (`MemoryCgroup`).
    case cgroupUnavailable(String)
    /// Reserving memory failed.
    case allocationFailed(bytes: Int, errno: Int32)

    public var description: String {
        switch self {
        case .invalidBudget(let text):
            return "invalid budget '\(text)': write a size such as 700M, 1.5G or 65536 (K, M, G are powers of 1024)"
        case .budgetTooSmall(let budget, let minimum, let breakdown):
            return "budget \(ByteCount.format(budget)) is below the minimum working set of \(ByteCount.format(minimum)) (\(breakdown)); use --budget \(MemoryBudget(bytes: minimum).roundedUpMebibytes) or more"
        case .addressSpaceLimitTooSmall(let limit, let budget, let overhead, let minimum):
            let fitting = limit - overhead
            let advice = fitting >= minimum
                ? "use --budget \(MemoryBudget(bytes: fitting).roundedDownMebibytes) or less, or raise the limit to \(ByteCount.format(budget + overhead))"
                : "raise the limit to at least \(ByteCount.format(minimum + overhead)) (the minimum working set of \(ByteCount.format(minimum)) plus \(ByteCount.format(overhead)))"
            return "the address-space limit (RLIMIT_AS, ulimit -v) of \(ByteCount.format(limit)) cannot hold the budget of \(ByteCount.format(budget)) plus the \(ByteCount.format(overhead)) the process maps beyond its resident set; \(advice)"
        case .alreadyOverBudget(let budget, let peak):
            return "the process already peaked at \(ByteCount.format(peak)) while opening the model, above the budget of \(ByteCount.format(budget))"
        case .cgroupUnavailable(let reason):
            return reason
        case .allocationFailed(let bytes, let code):
            return "could not reserve \(ByteCount.format(bytes)) for the buffer pool (errno \(code))"
        }
    }
}

extension MemoryBudget {
    /// The budget as a whole number of MiB, rounded up, in `--budget` syntax.
    var roundedUpMebibytes: String { "\((bytes + (1 << 20) - 1) >> 20)M" }
    /// The budget as a whole number of MiB, rounded down.
    var roundedDownMebibytes: String { "\(bytes >> 20)M" }
}
