import ArgumentParser
import WStream
import WStreamQuant

/// Options shared by the commands that run a model.
struct RuntimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Ceiling on the process's peak resident memory (VmHWM), e.g. 700M, 1.5G (powers of 1024).",
        discussion: "Layers that do not fit are streamed from the file each token. Without a budget everything stays resident."))
    var budget: String?

    @Option(help: "Compute threads (default: the cores this process may use, by CPU affinity and cgroup quota).")
    var threads = Engine.coreCount

    @Option(help: ArgumentHelp(
        "How streamed blocks are read: mapped (computed on where the file is mapped; the page cache keeps the file) or direct (read into the pool with O_DIRECT, past the page cache).",
        discussion: "Default: direct inside a memory cgroup with a limit, which counts the page cache against the process; mapped otherwise."))
    var io: StreamingIO?

    @Option(help: ArgumentHelp(
        "How 4- and 8-bit weights meet the activations: int8 (integer dot products, the default) or float32 (slower; the exact float product).",
        discussion: "float32 is for comparing with references computed in float32, e.g. mlx-lm's."))
    var activations = ActivationPrecision.int8

    func parsedBudget() throws -> MemoryBudget? {
        try budget.map { text in
            do { return try MemoryBudget(parsing: text) } catch { throw ValidationError("\(error)") }
        }
    }
}

/// Runs `body`, turning a budget the model cannot run within into exit status 2 with its message.
/// - Parameter json: also write the refusal as one JSON line (`BudgetRefusalRecord`), for `bench`.
func exitingOnBudgetError<T>(json: Bool = false, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RuntimeError {
        switch error {
        case .budgetTooSmall(let budget, let minimum, _):
            Terminal.error("error: \(error)")
            if json { Terminal.error(try BudgetRefusalRecord(budgetBytes: budget, minimumBytes: minimum).jsonLine()) }
            throw ExitCode(2)
        case .alreadyOverBudget, .addressSpaceLimitTooSmall:
            Terminal.error("error: \(error)")
            throw ExitCode(2)
        default:
            throw error
        }
    }
}

extension StreamingIO: ExpressibleByArgument {}
extension ActivationPrecision: ExpressibleByArgument {}
