#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamRuntime

/// The budget is the process's whole footprint: `wstream run` completes inside a memory cgroup of its budget plus 10 %,
/// which charges it the page cache it reads through as well (inside such a group the runtime reads streamed blocks with
/// O_DIRECT, past the page cache).
@Suite struct MemoryCgroupRunTests {
    @Test func runCompletesInsideAMemoryCgroupOfItsBudgetPlusTenPercentWithTheSameIds() throws {
        let model = try Fixtures.synthetic()
        let group: MemoryCgroup
        do {
            group = try MemoryCgroup(name: "wstream-test-\(getpid())", limit: BudgetTests.budgetBytes / 10 * 11)
        } catch RuntimeError.cgroupUnavailable(let reason) {
            try Test.cancel("needs a writable memory cgroup (root, with cgroup v1 or v2's memory controller): \(reason)")
        }
        let arguments = ["run", model.path, "--budget", BudgetTests.budget, "--prompt", BudgetTests.prompt, "-n", "32", "--temperature", "0",
                         "--print-ids", "--stats", "--stats-json"]
        let command = group.command(WStreamExecutable.path, arguments)
        let limited = try CommandRunner.run(command.executable, command.arguments)
        #expect(limited.succeeded, "the run did not complete inside \(group.limit >> 20) MiB: \(limited)")
        #expect(group.outOfMemoryKills == 0, "the kernel killed for memory in the group: \(limited)")
        let peak = try #require(BudgetTests.reportedPeak(in: limited.stderr), "no --stats-json line: \(limited)")
        #expect(peak <= BudgetTests.budgetBytes, "peak RSS \(peak >> 10) KiB exceeds the budget \(BudgetTests.budget): \(limited)")
        let charged = try #require(group.peakBytes, "the group's peak usage cannot be read")
        #expect(charged <= group.limit)
        #expect((BudgetTests.streamedRegions(in: limited.stderr) ?? 0) > 0, "nothing streamed, so the group tested nothing: \(limited)")
        #expect(limited.stderr.contains("direct"), "inside a memory cgroup streamed blocks should be read with O_DIRECT: \(limited)")

        let free = try WStreamExecutable.run(arguments)
        #expect(free.succeeded, "\(free)")
        #expect(BudgetTests.idsLine(in: limited.stdout) != nil)
        #expect(BudgetTests.idsLine(in: limited.stdout) == BudgetTests.idsLine(in: free.stdout), "the run inside the group generated other ids")
    }
}
