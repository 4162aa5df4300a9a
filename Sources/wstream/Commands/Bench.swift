import ArgumentParser
import WStream
import WStreamFormat
import WStreamQuant
import WStreamProcess
import WStreamTokenizer

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure peak memory and tokens/s of a model at several budgets, each in a fresh process.",
        discussion: """
            For each budget, `wstream run` is started anew (so no budget inherits another's memory) with a \
            prompt of exactly --prompt-tokens tokens and greedy decoding of --generate tokens. Peak RSS is that \
            child's VmHWM (/proc/self/status at the end of its run). A budget below the model's minimum is \
            reported as such and the others still run. --kernels times the 4-bit matrix-vector kernel alone.

              wstream bench llama.wst --budgets 2G,700M,500M,350M
              wstream bench --kernels
            """)

    @Argument(help: "The .wst file (optional with --kernels).")
    var model: String?

    @Option(help: "Comma-separated budgets to run at, e.g. 2G,700M,500M (powers of 1024).")
    var budgets = "2G,700M,500M,350M"

    @Option(help: "Prompt length in tokens.")
    var promptTokens = 128

    @Option(help: "Tokens to generate.")
    var generate = 128

    @Option(help: "Compute threads for each run (default: all cores).")
    var threads = Engine.coreCount

    @Flag(help: "Time the q4 group-32 matrix-vector kernel on a 4096×4096 matrix at 1 and 2 threads (GB/s of weights).")
    var kernels = false

    func validate() throws {
        if model == nil && !kernels { throw ValidationError("give a .wst model, or --kernels") }
        if promptTokens < 1 || generate < 1 { throw ValidationError("--prompt-tokens and --generate must be at least 1") }
        for text in budgetTexts {
            do { _ = try MemoryBudget(parsing: text) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        if kernels { runKernels() }
        guard let model else { return }
        let prompt = try syntheticPrompt(for: model)
        print("\(model): \(prompt.count) prompt tokens, \(generate) generated, \(threads) threads, greedy")
        let widths = [10, 12, 14, 14, 20, 16]
        print(row(["budget", "peak RSS", "prefill tok/s", "decode tok/s", "resident/streamed", "streamed/token"], widths))
        var failed = false
        for budget in budgetTexts {
            let child = try CommandRunner.run(CommandRunner.currentExecutable, [
                "run", model, "--budget", budget, "--prompt-ids", prompt.map(String.init).joined(separator: ","),
                "-n", "\(generate)", "--temperature", "0", "--threads", "\(threads)", "--stats-json",
            ], timeout: 3600)
            if child.exitStatus == 2, let refusal = BudgetRefusalRecord.find(in: child.stderr) {
                print(row([budget, "below minimum (\(ByteCount.format(refusal.minimumBytes)))"], [10, 60]))
            } else if child.exitStatus == 0, let stats = StatisticsRecord.find(in: child.stderr) {
                print(row([
                    budget, ByteCount.format(stats.peakResidentBytes),
                    Terminal.decimal(stats.prefillTokensPerSecond), Terminal.decimal(stats.decodeTokensPerSecond),
                    "\(stats.residentRegions)/\(stats.streamedRegions)", Terminal.megabytes(stats.bytesStreamedPerToken),
                ], widths))
            } else {
                failed = true
                let last = child.stderr.split(separator: "\n").last.map(String.init) ?? ""
                print(row([budget, "failed (\(child.termination)): \(last)"], [10, 60]))
            }
        }
        if failed { throw ExitCode.failure }
    }

    private var budgetTexts: [String] { budgets.split(separator: ",").map { String($0) } }

    /// Exactly `promptTokens` ids of ordinary text: a sentence repeated until the tokenizer yields enough.
    private func syntheticPrompt(for path: String) throws -> [Int] {
        let reader = try ContainerReader(path: path)
        let tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
        var text = "Once upon a time, a little fox walked through the quiet forest and found a shining stone. "
        var ids = tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: false)
        while ids.count < promptTokens {
            text += text
            ids = tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: false)
        }
        return Array(ids.prefix(promptTokens))
    }

    private func runKernels() {
        for threadCount in [1, 2] {
            let result = KernelBenchmark.run(rows: 4096, cols: 4096, bits: 4, groupSize: 32, threads: threadCount, iterations: 200)
            print("q4 g32 4096×4096 matvec, \(threadCount) thread\(threadCount == 1 ? " " : "s"): \(Terminal.decimal(result.milliseconds, places: 3)) ms, \(Terminal.decimal(result.gigabytesPerSecond)) GB/s")
        }
    }

    private func row(_ columns: [String], _ widths: [Int]) -> String {
        zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}
