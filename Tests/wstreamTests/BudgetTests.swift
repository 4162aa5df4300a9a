import Testing
import TestSupport

/// The memory budget is a ceiling on the process's peak RSS, on a synthetic model whose 4-bit weights alone
/// exceed the budget. The peak is the child's own VmHWM from /proc/self/status (its `--stats-json` line):
/// `wait4`'s `ru_maxrss` cannot be used from a test process, because Linux folds the parent's high-water mark
/// into the child's at `exec` (posix_spawn shares the parent's memory until then), so every child would
/// appear as large as the test runner.
@Suite(.serialized) struct BudgetTests {
    /// Below the model's ~55 MB of 4-bit weights; above its minimum working set.
    static let budget = "48M"
    static let budgetBytes = 48 << 20
    static let prompt = "The little fox found a shining stone"

    /// 128 tokens: long enough that anything leaking per token (file pages a lookup leaves mapped) would show.
    @Test func runWithinABudgetSmallerThanTheModelStreamsStaysUnderItAndGeneratesTheSameIds() throws {
        let model = try Fixtures.synthetic()
        let common = ["run", model.path, "--prompt", Self.prompt, "-n", "128", "--temperature", "0", "--print-ids"]
        let budgeted = try WStreamExecutable.run(common + ["--budget", Self.budget, "--stats", "--stats-json"])
        #expect(budgeted.succeeded, "\(budgeted)")
        let budgetedPeak = try #require(Self.reportedPeak(in: budgeted.stderr), "no --stats-json line: \(budgeted)")
        #expect(budgetedPeak <= Self.budgetBytes, "peak RSS \(budgetedPeak >> 10) KiB exceeds the budget \(Self.budget): \(budgeted)")

        let streamed = try #require(Self.streamedRegions(in: budgeted.stderr), "no pool line in --stats: \(budgeted)")
        #expect(streamed > 0, "the model fit the budget entirely, so nothing streamed: \(budgeted)")

        let unbudgeted = try WStreamExecutable.run(common + ["--stats-json"])
        #expect(unbudgeted.succeeded, "\(unbudgeted)")
        let ids = try #require(Self.idsLine(in: budgeted.stdout), "\(budgeted)")
        #expect(ids == Self.idsLine(in: unbudgeted.stdout), "streaming changed the generated ids")
        let unbudgetedPeak = try #require(Self.reportedPeak(in: unbudgeted.stderr), "\(unbudgeted)")
        #expect(unbudgetedPeak > budgetedPeak, "without a budget the whole model is resident, so the peak should be higher: \(unbudgeted)")
    }

    @Test func aBudgetFarBelowTheMinimumExitsTwoStatingTheMinimum() throws {
        let model = try Fixtures.synthetic()
        let result = try WStreamExecutable.run("run", model.path, "--budget", "8M", "--prompt", Self.prompt, "-n", "4")
        #expect(result.termination == .exited(2), "\(result)")
        let minimum = try #require(Self.suggestedBudget(in: result.stderr), "stderr should state the minimum as --budget NNM: \(result)")
        #expect(minimum > 8 << 20)
        #expect(result.stdout.isEmpty, "nothing should be generated: \(result)")
    }

    /// `peak_resident_bytes` of the `--stats-json` line: the child's VmHWM.
    static func reportedPeak(in stderr: String) -> Int? {
        guard let start = stderr.firstRange(of: "\"peak_resident_bytes\":")?.upperBound else { return nil }
        return Int(stderr[start...].prefix { $0.isNumber })
    }

    /// `M` in the `--stats` line `pool … N regions resident, M streamed`.
    static func streamedRegions(in stderr: String) -> Int? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("regions resident") }) else { return nil }
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(where: { $0.hasPrefix("streamed") }), index > 0 else { return nil }
        return Int(words[index - 1])
    }

    /// The `{"prompt_ids":…,"generated_ids":…}` line of `--print-ids`.
    static func idsLine(in stdout: String) -> String? {
        stdout.split(separator: "\n").last { $0.hasPrefix("{\"prompt_ids\"") }.map(String.init)
    }

    /// Bytes of the `--budget NNM` the error message suggests.
    static func suggestedBudget(in stderr: String) -> Int? {
        guard let start = stderr.firstRange(of: "--budget ")?.upperBound else { return nil }
        let digits = stderr[start...].prefix { $0.isNumber }
        guard let mebibytes = Int(digits), stderr[start...].dropFirst(digits.count).first == "M" else { return nil }
        return mebibytes << 20
    }
}
