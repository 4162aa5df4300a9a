import Testing
import TestSupport
import WStreamRuntime

/// Under an address-space limit (`setrlimit(RLIMIT_AS)`, `ulimit -v`) the budget still holds the run: the file is
/// mapped a window at a time, malloc keeps one arena and threads small stacks, so the process needs only the budget
/// plus a stated overhead (`ProcessLimits.statedAddressSpaceOverhead`) of address space.
@Suite(.serialized) struct AddressSpaceLimitTests {
    static let budget = 80 << 20
    static let prompt = "The little fox found a shining stone"

    @Test func aRunUnderTheBudgetPlusTheStatedOverheadCompletesWithTheSameIds() throws {
        let model = try Fixtures.syntheticFloat16()
        let limit = Self.budget + ProcessLimits.statedAddressSpaceOverhead
        let size = try #require(FileOperations.size(model.path))
        #expect(size > limit, "the model file (\(size) bytes) should be larger than the limit (\(limit))")
        let common = ["run", model.path, "--prompt", Self.prompt, "-n", "32", "--temperature", "0", "--print-ids",
                      "--budget", "\(Self.budget >> 20)M", "--stats-json"]
        let limited = try WStreamExecutable.run(common, addressSpaceLimit: limit)
        #expect(limited.succeeded, "\(limited)")
        let unlimited = try WStreamExecutable.run(common)
        #expect(unlimited.succeeded, "\(unlimited)")
        let ids = try #require(BudgetTests.idsLine(in: limited.stdout), "\(limited)")
        #expect(ids == BudgetTests.idsLine(in: unlimited.stdout), "the limit changed the generated ids")
        let peak = try #require(BudgetTests.reportedPeak(in: limited.stderr), "\(limited)")
        #expect(peak <= Self.budget, "peak RSS \(peak) above the budget: \(limited)")
    }

    @Test func aLimitBelowTheMinimumIsRefusedNamingTheLimit() throws {
        let model = try Fixtures.syntheticFloat16()
        let result = try WStreamExecutable.run(
            ["run", model.path, "--budget", "80M", "--prompt", Self.prompt, "-n", "4"], addressSpaceLimit: 70 << 20)
        #expect(result.termination == .exited(2), "\(result)")
        #expect(result.stderr.contains("address-space limit (RLIMIT_AS, ulimit -v) of 70.0 MiB"), "\(result)")
        #expect(result.stdout.isEmpty, "nothing should be generated: \(result)")
    }

    @Test func withoutABudgetTheLimitSetsIt() throws {
        let model = try Fixtures.syntheticFloat16()
        let limit = Self.budget + ProcessLimits.statedAddressSpaceOverhead
        let result = try WStreamExecutable.run(
            ["run", model.path, "--prompt", Self.prompt, "-n", "8", "--temperature", "0", "--stats-json"], addressSpaceLimit: limit)
        #expect(result.succeeded, "\(result)")
        let budget = try #require(Self.reportedBudget(in: result.stderr), "\(result)")
        #expect(budget > 0 && budget < limit, "budget \(budget) derived from a limit of \(limit): \(result)")
    }

    /// `budget_bytes` of the `--stats-json` line.
    static func reportedBudget(in stderr: String) -> Int? {
        guard let start = stderr.firstRange(of: "\"budget_bytes\":")?.upperBound else { return nil }
        return Int(stderr[start...].prefix { $0.isNumber })
    }
}
