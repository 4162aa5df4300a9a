import Testing
@testable import WStreamQuant

@Suite struct ProductScheduleTests {
    /// Distinct addresses standing for products' first matrices (never read).
    static var keys: [UnsafeRawPointer] { (1...4).map { UnsafeRawPointer(bitPattern: $0 * 4096)! } }

    static func leads(_ tag: Int) -> ProductSchedule.Leads {
        [UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: tag * 65536), count: tag)]
    }

    /// A second pass over the same products gets, at each product, the leads of the one that followed it.
    @Test func predictsTheProductThatFollowedLastTime() {
        let schedule = ProductSchedule()
        for (key, tag) in zip(Self.keys, 1...) { #expect(schedule.record(key, leads: Self.leads(tag)).isEmpty) }
        // The pass starts over: after key 4 came key 1, whose leads the next pass records again.
        let predicted = zip(Self.keys, 1...).map { key, tag in schedule.record(key, leads: Self.leads(tag)) }
        #expect(predicted.map { $0.first?.count } == [2, 3, 4, 1])
        #expect(predicted.map { $0.first?.baseAddress } == [2, 3, 4, 1].map { Self.leads($0).first?.baseAddress })
    }

    /// When the order changes, the prediction follows the last order seen.
    @Test func aChangedOrderReplacesTheOldOne() {
        let schedule = ProductSchedule()
        _ = schedule.record(Self.keys[0], leads: Self.leads(1))
        _ = schedule.record(Self.keys[1], leads: Self.leads(2))
        _ = schedule.record(Self.keys[0], leads: Self.leads(1))
        _ = schedule.record(Self.keys[2], leads: Self.leads(3))
        #expect(schedule.record(Self.keys[0], leads: Self.leads(1)).first?.count == 3)
    }

    /// Keys without end (streamed units mapped at new addresses) never hold more than `capacity` entries: the
    /// table starts over, and predicts again once the products repeat.
    @Test func staysBoundedUnderNewKeys() {
        let schedule = ProductSchedule()
        for i in 1...(ProductSchedule.capacity * 2 + 10) {
            _ = schedule.record(UnsafeRawPointer(bitPattern: i * 64)!, leads: Self.leads(1))
        }
        #expect(schedule.count <= ProductSchedule.capacity)
        _ = schedule.record(Self.keys[0], leads: Self.leads(1))
        _ = schedule.record(Self.keys[1], leads: Self.leads(2))
        _ = schedule.record(Self.keys[0], leads: Self.leads(1))
        #expect(schedule.record(Self.keys[1], leads: Self.leads(2)).first?.count == 1)
    }
}
