import Testing
@testable import WStreamServer

@Suite struct SlotGateTests {
    @Test func slotsThenAQueueThenFull() async throws {
        let gate = SlotGate(slots: 2, queueLength: 1)
        try await gate.enter()
        try await gate.enter()
        #expect(gate.inFlight == 2)
        let waiter = Task { try await gate.enter() }
        while gate.waiting < 1 { await Task.yield() }
        await #expect(throws: SlotGate.Full.self) { try await gate.enter() }
        gate.leave()
        try await waiter.value
        #expect(gate.inFlight == 2 && gate.waiting == 0, "the slot went straight to the waiter")
        gate.leave()
        gate.leave()
        #expect(gate.isIdle)
    }

    @Test func waitersAreAdmittedInArrivalOrder() async throws {
        let gate = SlotGate(slots: 1, queueLength: 3)
        try await gate.enter()
        let order = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        for index in 0..<3 {
            tasks.append(Task {
                try await gate.enter()
                await order.append(index)
                gate.leave()
            })
            while gate.waiting < index + 1 { await Task.yield() }
        }
        gate.leave()
        for task in tasks { try await task.value }
        #expect(await order.values == [0, 1, 2])
        #expect(gate.isIdle)
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let gate = SlotGate(slots: 1, queueLength: 1)
        try await gate.enter()
        let waiter = Task { try await gate.enter() }
        while gate.waiting < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(gate.waiting == 0 && gate.inFlight == 1)
        gate.leave()
        #expect(gate.isIdle)
    }
}

private actor OrderLog {
    var values: [Int] = []
    func append(_ value: Int) { values.append(value) }
}
