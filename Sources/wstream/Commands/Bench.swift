import ArgumentParser
import WStream
import WStreamFormat
import WStreamQuant
import WStreamTokenizer

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure peak memory and tokens/s of a model at several budgets, each in a fresh process.",
        discussion: """
            For each budget, `wstream run` is started anew (so no budget inherits another's memory) with a \
            prompt of exactly --prompt-tokens tokens and greedy decoding of --generate tokens. Peak RSS is that \
            child's VmHWM (/proc/self/status at the end of its run). A budget below the model's minimum is \
            reported as such and the others still run.

            --kernels times the matrix kernels alone on random weights shaped like LFM2-1.2B's linear layers \
            (about 800 MB, far beyond the last-level cache), read in turn as a token reads them: the \
            float-activation kernels against the int8 ones, decode (1 input) and prefill, at 1 and 2 threads. \
            A bandwidth probe reads the same memory first, and each kernel's weight GB/s is given as a share of it.

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

    @Flag(help: "Time the matrix kernels on a model-sized set of matrices, against the memory bandwidth.")
    var kernels = false

    @Option(help: "With --kernels: LFM2-1.2B layers in the set (16, the default, adds the 8-bit head).")
    var kernelLayers = 16

    @Option(help: "With --kernels: comma-separated inputs per product (1 is decode, more a prefill chunk).")
    var kernelInputs = "1,32,128"

    func validate() throws {
        if model == nil && !kernels { throw ValidationError("give a .wst model, or --kernels") }
        if promptTokens < 1 || generate < 1 { throw ValidationError("--prompt-tokens and --generate must be at least 1") }
        if kernelLayers < 1 || kernelLayers > 16 { throw ValidationError("--kernel-layers must be 1…16, not \(kernelLayers)") }
        if kernelInputCounts == nil { throw ValidationError("--kernel-inputs must be positive integers separated by commas, not '\(kernelInputs)'") }
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
        print(row(["budget", "peak RSS", "prefill tok/s", "decode tok/s", "resident/streamed", "decoded/token"], widths))
        var failed = false
        for budget in budgetTexts {
            let child = try ChildProcess.run(ChildProcess.currentExecutable, [
                "run", model, "--budget", budget, "--prompt-ids", prompt.map(String.init).joined(separator: ","),
                "-n", "\(generate)", "--temperature", "0", "--threads", "\(threads)", "--stats-json",
            ])
            if child.exitStatus == 2 {
                print(row([budget, "below minimum (\(minimum(in: child.stderr)))"], [10, 60]))
            } else if child.exitStatus == 0, let stats = StatisticsRecord.find(in: child.stderr) {
                print(row([
                    budget, ByteCount.format(stats.peakResidentBytes),
                    Terminal.decimal(stats.prefillTokensPerSecond), Terminal.decimal(stats.decodeTokensPerSecond),
                    "\(stats.residentRegions)/\(stats.streamedRegions)", Terminal.megabytes(stats.bytesDecodedPerToken),
                ], widths))
            } else {
                failed = true
                let how = child.signal.map { "killed by signal \($0)" } ?? "exit status \(child.exitStatus!)"
                let last = child.stderr.split(separator: "\n").last.map(String.init) ?? ""
                print(row([budget, "failed (\(how)): \(last)"], [10, 60]))
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

    /// `40.3 MiB` from the child's "… below the minimum working set of 40.3 MiB (…)" error.
    private func minimum(in stderr: String) -> String {
        guard let start = stderr.firstRange(of: "minimum working set of ")?.upperBound else {
            let last = stderr.split(separator: "\n").last.map(String.init) ?? "no message"
            return last.hasPrefix("error: ") ? String(last.dropFirst("error: ".count)) : last
        }
        let rest = stderr[start...]
        return String(rest[..<(rest.firstRange(of: " (")?.lowerBound ?? rest.endIndex)])
    }

    private var kernelInputCounts: [Int]? {
        let counts = kernelInputs.split(separator: ",").map { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return counts.compactMap { $0 }
    }

    private func runKernels() {
        var configuration = KernelBenchmark.Configuration.lfm2(layers: kernelLayers)
        configuration.inputCounts = kernelInputCounts ?? [1]
        let report = KernelBenchmark.run(configuration)
        let shape = kernelLayers == 16 ? "LFM2-1.2B's linear layers and head" : "\(kernelLayers) LFM2-1.2B layer\(kernelLayers == 1 ? "" : "s")"
        print("kernels: \(report.family) integer kernels; \(report.matrixCount) matrices (\(shape)), \(Terminal.megabytes(report.bytes))")
        print("memory bandwidth: " + report.bandwidth.map {
            "\($0.threads) thread\($0.threads == 1 ? "" : "s") \(Terminal.decimal($0.gigabytesPerSecond)) GB/s"
        }.joined(separator: ", "))
        let widths = [12, 8, 9, 12, 10, 14, 10]
        print(row(["activations", "inputs", "threads", "ms/pass", "GB/s", "of bandwidth", "tok/s"], widths))
        for figure in report.figures {
            print(row([
                figure.precision == .int8 ? "int8" : "float32", "\(figure.inputs)", "\(figure.threads)",
                Terminal.decimal(figure.seconds * 1e3, places: 2), Terminal.decimal(figure.gigabytesPerSecond),
                "\(Terminal.decimal(figure.shareOfBandwidth * 100)) %", Terminal.decimal(figure.tokensPerSecond),
            ], widths))
        }
    }

    private func row(_ columns: [String], _ widths: [Int]) -> String {
        zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}
