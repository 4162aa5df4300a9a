#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import WStreamFormat

/// `wstream flip-sweep`: the corruption sweep (hidden; `make sweep` runs it on the test models).
struct FlipSweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flip-sweep",
        abstract: "Flip random bits of a .wst file one at a time and check that each is detected or harmless.",
        discussion: """
            For each of --flips bit positions (drawn from --seed, so a sweep repeats exactly; with \
            --every-header-bit, each bit of the header first), one bit of a private copy of the file is flipped, the \
            copy is opened and run (a short greedy generation, in a worker process that a crash cannot take the sweep \
            down with), and the bit is restored. Each flip is detected (an error naming the file and the damaged \
            header, metadata or tensor), harmless (the undamaged file's ids), or a finding: silent (other ids, no \
            error), misnamed (an error not naming the damage), crashed or hung. \
            Prints the outcomes per area of the file and exits 1 when there is any finding.

              wstream flip-sweep stories.wst --flips 10000 --report flips.tsv
            """,
        shouldDisplay: false)

    @Argument(help: "The .wst file (never modified: the flips damage copies).")
    var model: String

    @Option(help: "Bits to flip, one at a time.")
    var flips = 10_000

    @Option(help: "Seed of the bit positions.")
    var seed: UInt64 = 1

    @Flag(help: "Before the random flips, flip each of the header's 512 bits.")
    var everyHeaderBit = false

    @Option(help: "The prompt of each run.")
    var prompt = "Once upon a time"

    @Option(name: [.customShort("n"), .long], help: "Tokens each run generates (greedy).")
    var maxTokens = 8

    @Option(help: "Compute threads of each run.")
    var threads = 1

    @Flag(help: "Load each run with the smallest allowance, so that blocks stream, instead of everything resident.")
    var streamed = false

    @Option(help: "Worker processes at once, each with its own share of the flips.")
    var jobs = 1

    @Option(help: "Kill a worker, and record its flip as hung, after this many seconds without an outcome.")
    var stallSeconds = 120.0

    @Option(help: "Write every flip's outcome to this file, one tab-separated line each.")
    var report: String?

    @Option(help: .hidden)
    var workerRange: String?

    @Option(help: .hidden)
    var journal: String?

    @Option(help: .hidden)
    var copy: String?

    @Option(help: .hidden)
    var baselinePrompt: String?

    @Option(help: .hidden)
    var baselineGenerated: String?

    /// `INDEX:crash` or `INDEX:hang`: the worker fails so at that flip (tests of the supervisor).
    @Option(help: .hidden)
    var rehearse: String?

    func validate() throws {
        if flips < 1 || maxTokens < 1 || threads < 1 || jobs < 1 { throw ValidationError("--flips, -n, --threads and --jobs must be at least 1") }
        if let rehearse, FlipWorker.Rehearsal(rehearse) == nil { throw ValidationError("--rehearse takes INDEX:crash or INDEX:hang") }
        if workerRange != nil && (journal == nil || copy == nil || baselinePrompt == nil || baselineGenerated == nil) {
            throw ValidationError("a worker needs --journal, --copy, --baseline-prompt and --baseline-generated")
        }
    }

    private var probe: GreedyProbe { GreedyProbe(prompt: prompt, maxTokens: maxTokens, threads: threads, streamed: streamed) }

    func run() async throws {
        do {
            if let workerRange {
                try await runWorker(range: try parsedRange(workerRange))
            } else {
                try await runSweep()
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            Terminal.error("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The supervising process: baseline, flips in workers, table.
    private func runSweep() async throws {
        let reader = try ContainerReader(path: model)
        let areas = FileAreaMap(reader: reader)
        let baseline = await probe.run(model)
        guard case .ids(let promptIds, let generatedIds) = baseline else {
            throw CommandFailure("the undamaged file does not run: \(baseline)")
        }
        let plan = FlipPlan(seed: seed, count: flips, fileSize: areas.fileSize, everyHeaderBit: everyHeaderBit)
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        var arguments = ["--flips", "\(flips)", "--seed", "\(seed)", "--prompt", prompt, "-n", "\(maxTokens)", "--threads", "\(threads)",
                         "--baseline-prompt", promptIds.map(String.init).joined(separator: ","),
                         "--baseline-generated", generatedIds.map(String.init).joined(separator: ",")]
        if streamed { arguments.append("--streamed") }
        if everyHeaderBit { arguments.append("--every-header-bit") }
        if let rehearse { arguments += ["--rehearse", rehearse] }
        let supervisor = FlipSupervisor(
            model: model, plan: plan, workerArguments: arguments, scratch: scratch.path, jobs: jobs, stallSeconds: stallSeconds)
        let bar = ProgressBar(label: "flipping")
        let total = plan.bits.count
        let records = try supervisor.run { done in bar.update(done: done, total: total, note: "\(done)/\(total) flips") }
        bar.finish()
        let tally = FlipTally(records: records, plan: plan, areas: areas)
        print("""
            \(model): \(everyHeaderBit ? "every header bit and " : "")\(flips) random bits flipped one at a time (seed \(seed)), each run greedy from "\(prompt)" for \(maxTokens) tokens, \
            \(streamed ? "streamed" : "all resident"), in \(Terminal.decimal(bar.elapsed)) s
            baseline: prompt ids \(Terminal.jsonArray(promptIds)), generated ids \(Terminal.jsonArray(generatedIds))
            """)
        print(tally.table)
        if let report { try tally.writeReport(to: report) }
        if tally.findings > 0 { throw ExitCode(1) }
    }

    /// A worker process: flips `range` of the plan, journaling each.
    private func runWorker(range: Range<Int>) async throws {
        guard let journal, let copy, let promptIds = parsedIds(baselinePrompt), let generatedIds = parsedIds(baselineGenerated) else {
            throw ValidationError("a worker needs --journal, --copy, --baseline-prompt and --baseline-generated")
        }
        let size = try ContainerReader(path: model).fileSize
        let plan = FlipPlan(seed: seed, count: flips, fileSize: size, everyHeaderBit: everyHeaderBit)
        guard range.lowerBound >= 0, range.upperBound <= plan.bits.count else {
            throw ValidationError("--worker-range \(range) outside 0..<\(plan.bits.count)")
        }
        let worker = FlipWorker(
            model: model, copy: copy, journal: journal, plan: plan, probe: probe, baseline: .ids(prompt: promptIds, generated: generatedIds),
            rehearsal: rehearse.flatMap(FlipWorker.Rehearsal.init))
        try await worker.run(range)
    }

    private func parsedRange(_ text: String) throws -> Range<Int> {
        let parts = text.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let start = parts[0], let end = parts[1], start <= end else {
            throw ValidationError("--worker-range takes START:END")
        }
        return start..<end
    }

    /// Comma-separated ids ("" is none).
    private func parsedIds(_ text: String?) -> [Int]? {
        guard let text else { return nil }
        let ids = text.split(separator: ",").map { Int($0) }
        return ids.contains(nil) ? nil : ids.map { $0! }
    }
}
