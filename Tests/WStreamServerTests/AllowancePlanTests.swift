import Testing
@testable import WStreamServer

@Suite struct AllowancePlanTests {
    @Test func everyModelGetsItsMinimumAndTheRestGoesByWhatEachLacks() throws {
        let plan = try #require(AllowancePlan.split(400, among: [
            .init(id: "a", minimum: 50, fullyResident: 150), .init(id: "b", minimum: 150, fullyResident: 450),
        ]))
        // 200 spare shared 100 : 300 → 50 and 150.
        #expect(plan.allowances == ["a": 100, "b": 300])
    }

    @Test func noModelGetsMoreThanFullyResident() throws {
        let plan = try #require(AllowancePlan.split(1000, among: [.init(id: "a", minimum: 10, fullyResident: 20), .init(id: "b", minimum: 30, fullyResident: 30)]))
        #expect(plan.allowances == ["a": 20, "b": 30])
    }

    @Test func minimumsBeyondWhatIsAvailableHaveNoPlan() {
        #expect(AllowancePlan.split(99, among: [.init(id: "a", minimum: 50, fullyResident: 60), .init(id: "b", minimum: 50, fullyResident: 60)]) == nil)
        #expect(AllowancePlan.split(100, among: [.init(id: "a", minimum: 50, fullyResident: 60), .init(id: "b", minimum: 50, fullyResident: 60)])?
            .allowances == ["a": 50, "b": 50])
    }

    @Test func theSharesNeverExceedWhatIsAvailable() throws {
        let needs = (0..<7).map { AllowancePlan.Need(id: "m\($0)", minimum: 1000 + 37 * $0, fullyResident: 5000 + 911 * $0) }
        for available in stride(from: 8000, to: 60_000, by: 997) {
            let plan = try #require(AllowancePlan.split(available, among: needs))
            #expect(plan.allowances.values.reduce(0, +) <= available)
            for need in needs { #expect((need.minimum...need.fullyResident).contains(plan.allowances[need.id]!)) }
        }
    }
}
