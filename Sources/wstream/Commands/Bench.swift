#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import WStream
import WStreamFormat
import WStreamQuant
import WStreamProcess
import WStreamTokenizer

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure peak memory and tokens/s of a model at several budgets, each in a fresh process, against the machine's limits.",
        discussion: """
            For each budget, `wstream run` is started anew (so no budget inherits another's memory) with a \
            prompt of exactly --prompt-tokens tokens and greedy decoding of --generate tokens. Peak RSS is that \
            child's VmHWM. A budget below the model's minimum is reported as such and the others still run.

            The same invocation measures the machine's limits: the disk's bandwidth on the model's file \
            (O_DIRECT), so that each run's decode speed can be set against what the disk allows for the bytes it \
            streams per token. --cgroup also runs each budget inside a memory cgroup of that size with the page \
            cache dropped first (root; cgroup v1 or v2), where the page cache counts against the process. \
            --peer-llama-bench and --peer-gguf run a llama.cpp you already have on its GGUF of the same weights, \
            on the host (--peer-rounds times, each followed by a run of ours at every budget; each side's median counts) and in the same \
            cgroups; its decode runs after as many tokens of context as ours (-d). --output writes results.md, chart.svg and results.json there; \
            --json prints the report as JSON.

            --kernels times the matrix kernels alone on random weights shaped like LFM2-1.2B's linear layers \
            (about 700 MB, far beyond the last-level cache), read in turn as a token reads them: the \
            float-activation kernels against the int8 ones, decode (1 input) and prefill, at 1 and 2 threads. \
            A bandwidth probe reads the same memory first, and each kernel's weight GB/s is given as a share of it.

              wstream bench lfm2.wst --budgets 2G,700M,350M
              wstream bench lfm2.wst --cgroup --peer-llama-bench ~/llama.cpp/build/bin/llama-bench --peer-gguf lfm2-q4_0.gguf --output bench
              wstream bench --kernels
            """)

    @Argument(help: "The .wst file (optional with --kernels).")
    var model: String?

    @Option(help: "Comma-separated budgets to run at, e.g. 2G,700M,500M (powers of 1024).")
    var budgets = "2G,700M,500M,350M"

    @Option(help: "Prompt length in tokens.")
    var promptTokens = 128

    @Option(help: "Tokens to generate.")
    var generate = 64

    @Option(help: "Compute threads for each run (default: the cores this process may use).")
    var threads = Engine.coreCount

    @Flag(help: "Also run each budget inside a memory cgroup of that size, page cache dropped first (needs root).")
    var cgroup = false

    @Option(help: "A llama-bench executable to run side by side (with --peer-gguf).")
    var peerLlamaBench: String?

    @Option(name: .customLong("peer-gguf"), help: "The peer's GGUF of the same weights (e.g. llama-quantize Q4_0 of the F16 file the model was packed from).")
    var peerGgufFile: String?

    @Option(help: "With a peer: rounds of its host run, each followed by one of ours at every budget; each side's median counts.")
    var peerRounds = 3

    @Option(help: "A folder to write results.md, chart.svg and results.json into.")
    var output: String?

    @Flag(help: "Print the report as JSON instead of tables.")
    var json = false

    @Flag(help: "Time the matrix kernels on a model-sized set of matrices, against the memory bandwidth.")
    var kernels = false

    @Option(help: "With --kernels: the model shape whose linear layers make the set: lfm2-1.2b or llama-3.2-1b.")
    var kernelShape: KernelShape = .lfm2

    @Option(help: "With --kernels: layers of that shape in the set (16, the default, adds the 6-bit head).")
    var kernelLayers = 16

    @Option(help: "With --kernels: comma-separated inputs per product (1 is decode, more a prefill chunk).")
    var kernelInputs = "1,32,128"

    /// The size of the file at `path`, nil when it cannot be read.
    private static func fileSize(_ path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : nil
    }

    func validate() throws {
        if model == nil && !kernels { throw ValidationError("give a .wst model, or --kernels") }
        if promptTokens < 1 || generate < 1 { throw ValidationError("--prompt-tokens and --generate must be at least 1") }
        if peerRounds < 1 { throw ValidationError("--peer-rounds must be at least 1, not \(peerRounds)") }
        if kernelLayers < 1 || kernelLayers > 16 { throw ValidationError("--kernel-layers must be 1…16, not \(kernelLayers)") }
        if kernelInputCounts == nil { throw ValidationError("--kernel-inputs must be positive integers separated by commas, not '\(kernelInputs)'") }
        if (peerLlamaBench == nil) != (peerGgufFile == nil) { throw ValidationError("--peer-llama-bench and --peer-gguf go together") }
        for text in budgetTexts {
            do { _ = try MemoryBudget(parsing: text) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        if kernels { runKernels() }
        guard let model else { return }
        let prompt = try syntheticPrompt(for: model)
        var report = BenchReport(
            model: model, promptTokens: prompt.count, generatedTokens: generate,
            machine: try measureMachine(model: model), runs: [], cgroupRuns: [], peer: peerLlamaBench.map { "\($0) on \(peerGgufFile!)" },
            peerRuns: [])
        if !json { print("\(model): \(prompt.count) prompt tokens, \(generate) generated, \(threads) threads, greedy") }
        let peer = peerLlamaBench.map { PeerBench(executable: $0, gguf: peerGgufFile!) }
        report.peerFileBytes = peerGgufFile.flatMap(Self.fileSize)
        for budget in budgetTexts {
            report.runs.append(try run(prompt: prompt, budget: budget, cgroup: nil))
            if !json { printRun(report.runs.last!) }
        }
        // The peer's host runs alternate with rounds of ours at every budget (see `HostRounds`).
        if let peer, let allResident = report.allResidentIndex {
            var rounds = BenchReport.HostRounds(ours: report.runs.map { [$0] }, peer: [], allResidentIndex: allResident)
            for _ in 0..<peerRounds {
                rounds.peer.append(try peer.run(promptTokens: promptTokens, generate: generate, threads: threads, repetitions: 2, cgroup: nil, timeout: 1800))
                for (index, budget) in budgetTexts.enumerated() where report.runs[index].statistics != nil {
                    rounds.ours[index].append(try run(prompt: prompt, budget: budget, cgroup: nil))
                    if !json { printRun(rounds.ours[index].last!) }
                }
                report.machine.memoryBandwidthReadings.append(probeMemory())
            }
            report.hostRounds = rounds
            report.peerRuns.append(rounds.peerMedian)
        }
        if cgroup {
            do {
                for budget in budgetTexts {
                    let limit = try MemoryBudget(parsing: budget).bytes
                    let group = try MemoryCgroup(name: "wstream-bench-\(getpid())", limit: limit)
                    MemoryCgroup.dropCaches()
                    var run = try run(prompt: prompt, budget: "\((limit * 10 / 11) >> 20)M", cgroup: group)
                    run.cgroupPeakBytes = group.peakBytes
                    run.outOfMemoryKills = group.outOfMemoryKills
                    report.cgroupRuns.append(run)
                    if !json { printRun(run) }
                }
            } catch let error as RuntimeError {
                report.cgroupSkipped = error.description
                if !json { print("cgroup runs skipped: \(error)") }
            }
        }
        if let peer {
            if report.peerRuns.isEmpty {
                report.peerRuns.append(try peer.run(promptTokens: promptTokens, generate: generate, threads: threads, repetitions: 2, cgroup: nil, timeout: 1800))
            }
            if cgroup, report.cgroupSkipped == nil {
                for budget in budgetTexts {
                    let group = try MemoryCgroup(name: "wstream-bench-peer-\(getpid())", limit: try MemoryBudget(parsing: budget).bytes)
                    MemoryCgroup.dropCaches()
                    report.peerRuns.append(try peer.run(promptTokens: promptTokens, generate: generate, threads: threads, repetitions: 1, cgroup: group, timeout: 300))
                }
            }
        }
        if json {
            print(String(decoding: try Self.encoder.encode(report), as: UTF8.self))
        } else {
            print("")
            print(BenchResults.markdown(report))
        }
        if let output {
            mkdir(output, 0o755)
            try write(BenchResults.markdown(report), to: output + "/results.md")
            try write(BenchResults.chart(report).svg, to: output + "/chart.svg")
            try write(String(decoding: try Self.encoder.encode(report), as: UTF8.self) + "\n", to: output + "/results.json")
        }
        if report.hostRuns.joined().contains(where: { $0.outcome == "failed" }) { throw ExitCode.failure }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }

    private var budgetTexts: [String] { budgets.split(separator: ",").map { String($0) } }

    /// The CPU, the kernels of this build, the memory's bandwidth at `threads`, and the disk's bandwidth on
    /// the model's file system.
    private func measureMachine(model: String) throws -> BenchReport.Machine {
        BenchReport.Machine(
            cpu: MachineInfo.cpuModel, cpuFlags: MachineInfo.vectorFlags, kernels: KernelFamily.native.description, threads: threads,
            memoryBandwidthReadings: [probeMemory()],
            diskBandwidth: try DiskBandwidth.measure(path: model), diskBypassesPageCache: DiskBandwidth.bypassesPageCache(path: model))
    }

    /// Bytes per second of each of the memory probe's measurements, made now with `threads` threads.
    private func probeMemory() -> [Double] { KernelBenchmark.memoryBandwidthMeasurements(threads: threads).map { $0 * 1e9 } }

    /// One `wstream run` of `prompt` at `budget` in a fresh process, inside `cgroup` when given.
    private func run(prompt: [Int], budget: String, cgroup: MemoryCgroup?) throws -> BenchReport.Run {
        var command = (executable: CommandRunner.currentExecutable, arguments: [
            "run", model!, "--budget", budget, "--prompt-ids", prompt.map(String.init).joined(separator: ","),
            "-n", "\(generate)", "--temperature", "0", "--threads", "\(threads)", "--stats-json",
        ])
        if let cgroup { command = cgroup.command(command.executable, command.arguments) }
        let child = try CommandRunner.run(command.executable, command.arguments, timeout: 3600)
        var run = BenchReport.Run(budget: budget, budgetBytes: try MemoryBudget(parsing: budget).bytes, memoryLimit: cgroup?.limit, outcome: "ok")
        if child.exitStatus == 2, let refusal = BudgetRefusalRecord.find(in: child.stderr) {
            run.outcome = "below minimum"
            run.detail = ByteCount.format(refusal.minimumBytes)
        } else if child.exitStatus == 0, let statistics = StatisticsRecord.find(in: child.stderr) {
            run.statistics = statistics
        } else {
            run.outcome = "failed"
            run.detail = "\(child.termination): " + (child.stderr.split(separator: "\n").last.map(String.init) ?? "")
        }
        return run
    }

    private func printRun(_ run: BenchReport.Run) {
        let label = run.memoryLimit.map { "cgroup \(ByteCount.format($0)), --budget \(run.budget)" } ?? "--budget \(run.budget)"
        guard let s = run.statistics else {
            print("\(label): \(run.outcome)\(run.detail.map { " (\($0))" } ?? "")")
            return
        }
        print("\(label): peak \(ByteCount.format(s.peakResidentBytes)), prefill \(Terminal.decimal(s.prefillTokensPerSecond)) tok/s, decode \(Terminal.decimal(s.decodeTokensPerSecond)) tok/s, \(s.residentRegions)/\(s.streamedRegions) units resident/streamed, \(Terminal.megabytes(s.bytesStreamedPerToken)) streamed per token")
    }

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

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        guard fputs(text, file) >= 0 else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
    }

    private var kernelInputCounts: [Int]? {
        let counts = kernelInputs.split(separator: ",").map { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return counts.compactMap { $0 }
    }

    private func runKernels() {
        var configuration = kernelShape.configuration(layers: kernelLayers)
        configuration.inputCounts = kernelInputCounts ?? [1]
        let report = KernelBenchmark.run(configuration)
        let shape = kernelLayers == 16
            ? "\(kernelShape.title)'s linear layers and head" : "\(kernelLayers) \(kernelShape.title) layer\(kernelLayers == 1 ? "" : "s")"
        print("kernels: \(report.family) integer kernels; \(report.matrixCount) matrices (\(shape)), \(Terminal.megabytes(report.bytes))")
        if report.figures.contains(where: \.interleaved) { print("tile prefetch (\(CPUVendor.current)): \(TilePrefetch.native)") }
        print("memory bandwidth: " + report.bandwidth.map {
            "\($0.threads) thread\($0.threads == 1 ? "" : "s") \(Terminal.decimal($0.gigabytesPerSecond)) GB/s"
        }.joined(separator: ", "))
        let widths = [12, 8, 9, 12, 10, 14, 10]
        print(row(["activations", "inputs", "threads", "ms/pass", "GB/s", "of bandwidth", "tok/s"], widths))
        for figure in report.figures {
            print(row([
                figure.precision == .float32 ? "float32" : figure.interleaved ? "int8 tiles" : "int8", "\(figure.inputs)", "\(figure.threads)",
                Terminal.decimal(figure.seconds * 1e3, places: 2), Terminal.decimal(figure.gigabytesPerSecond),
                "\(Terminal.decimal(figure.shareOfBandwidth * 100)) %", Terminal.decimal(figure.tokensPerSecond),
            ], widths))
        }
    }

    /// `columns` padded to `widths`, for the kernel table.
    private func row(_ columns: [String], _ widths: [Int]) -> String {
        zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}
