import Testing
import WStreamRuntime

@Suite struct MemoryBudgetTests {
    @Test func suffixesArePowersOf1024() throws {
        #expect(try MemoryBudget(parsing: "700M").bytes == 700 * 1024 * 1024)
        #expect(try MemoryBudget(parsing: "64K").bytes == 64 * 1024)
        #expect(try MemoryBudget(parsing: "2G").bytes == 2 * 1024 * 1024 * 1024)
        #expect(try MemoryBudget(parsing: "1.5g").bytes == 1536 * 1024 * 1024)
        #expect(try MemoryBudget(parsing: "350MiB").bytes == 350 * 1024 * 1024)
        #expect(try MemoryBudget(parsing: "4096").bytes == 4096)
    }

    @Test(arguments: ["", "M", "-5M", "abc", "7X", "0"])
    func malformedBudgetsAreRejected(_ text: String) {
        #expect(throws: RuntimeError.invalidBudget(text)) { try MemoryBudget(parsing: text) }
    }

    @Test func tooSmallBudgetStatesTheMinimum() {
        let workingSet = WorkingSet([WorkingSet.Part("process", bytes: 20 << 20), WorkingSet.Part("KV cache and state", bytes: 4 << 20)])
        #expect(throws: RuntimeError.self) {
            try workingSet.plan(budget: MemoryBudget(bytes: 30 << 20), cycle: [0, 1], sizes: [0: 10 << 20, 1: 8 << 20])
        }
        do {
            _ = try workingSet.plan(budget: MemoryBudget(bytes: 30 << 20), cycle: [0, 1], sizes: [0: 10 << 20, 1: 8 << 20])
        } catch let error as RuntimeError {
            guard case .budgetTooSmall(_, let minimum, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(minimum == (20 << 20) + (4 << 20) + (10 << 20))
            #expect(error.description.contains("--budget 34M"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
