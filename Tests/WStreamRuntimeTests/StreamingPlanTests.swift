import Testing
import WStreamRuntime

@Suite struct StreamingPlanTests {
    let cycle = Array(0..<6)
    let sizes: [Int: Int] = [0: 10, 1: 10, 2: 10, 3: 10, 4: 10, 5: 30]

    @Test func everythingStaysResidentWhenItFits() throws {
        let plan = try #require(StreamingPlan.make(cycle: cycle, sizes: sizes, available: 80))
        #expect(plan.resident == Set(cycle))
        #expect(plan.slotCount == 0)
        #expect(plan.poolBytes == 80)
    }

    @Test func residentSetIsFixedAndSlotsServeTheRest() throws {
        let plan = try #require(StreamingPlan.make(cycle: cycle, sizes: sizes, available: 70))
        // The 30-byte head stays (else slots would be 30 each); two 10-byte slots stream the rest.
        #expect(plan.resident.contains(5))
        #expect(plan.slotCount == 2)
        #expect(plan.slotBytes == 10)
        #expect(plan.poolBytes <= 70)
        #expect(plan.residentBytes == 30 + 2 * 10)
        #expect(plan.streamed.count == 3)
    }

    @Test func oneSlotIsTheMinimum() throws {
        let plan = try #require(StreamingPlan.make(cycle: cycle, sizes: sizes, available: 30))
        #expect(plan.slotCount == 1)
        #expect(plan.slotBytes == 30)
        #expect(plan.resident.isEmpty)
        #expect(StreamingPlan.make(cycle: cycle, sizes: sizes, available: 29) == nil)
        #expect(StreamingPlan.minimumPoolBytes(cycle: cycle, sizes: sizes) == 30)
    }

    @Test func residentBytesGrowWithTheBudget() throws {
        var previous = -1
        for available in stride(from: 30, through: 80, by: 5) {
            let plan = try #require(StreamingPlan.make(cycle: cycle, sizes: sizes, available: available))
            #expect(plan.poolBytes <= available)
            #expect(plan.residentBytes >= previous)
            previous = plan.residentBytes
        }
    }
}
