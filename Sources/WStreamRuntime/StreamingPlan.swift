/// Which regions stay resident in the pool and how many streaming slots serve the rest.
///
/// Every token visits the regions in the same cycle, so each region is needed exactly once per token
/// and any resident byte saves one decoded byte per token: the plan maximises resident bytes.
/// Plain LRU would be the worst policy here (it always evicts the region needed next); instead the
/// resident set is fixed and the streamed regions share `slotCount` slots the size of the largest of them.
public struct StreamingPlan: Sendable, Equatable {
    /// Region indices in the order the model uses them each token.
    public let cycle: [Int]
    /// Regions decoded once at start and kept.
    public let resident: Set<Int>
    /// Size of one streaming slot (the largest streamed region), 0 when everything is resident.
    public let slotBytes: Int
    /// Streaming slots: 2 lets the next region decode while the current one computes; 1 is the minimum.
    public let slotCount: Int
    /// Bytes of all resident regions.
    public let residentBytes: Int

    /// Total pool size: resident regions plus streaming slots.
    public var poolBytes: Int { residentBytes + slotBytes * slotCount }
    /// Regions decoded every token.
    public var streamed: [Int] { cycle.filter { !resident.contains($0) } }

    /// Chooses the plan that keeps the most bytes resident within `available` bytes.
    /// - Parameters:
    ///   - cycle: region indices in order of use.
    ///   - sizes: decoded size of each region, by region index.
    ///   - available: bytes the pool may use.
    /// - Returns: nil when not even one slot of the smallest feasible size fits.
    public static func make(cycle: [Int], sizes: [Int: Int], available: Int) -> StreamingPlan? {
        let total = cycle.reduce(0) { $0 + sizes[$1]! }
        if total <= available {
            return StreamingPlan(cycle: cycle, resident: Set(cycle), slotBytes: 0, slotCount: 0, residentBytes: total)
        }
        var best: StreamingPlan?
        // Try each region size as the slot size: larger regions must then be resident.
        for slot in Set(cycle.map { sizes[$0]! }).sorted() {
            let mustStay = cycle.filter { sizes[$0]! > slot }
            let mustBytes = mustStay.reduce(0) { $0 + sizes[$1]! }
            let slotCount = mustBytes + 2 * slot <= available ? 2 : 1
            guard mustBytes + slotCount * slot <= available else { continue }
            var resident = Set(mustStay)
            var residentBytes = mustBytes
            var room = available - mustBytes - slotCount * slot
            let candidates = cycle.filter { sizes[$0]! <= slot }.sorted { sizes[$0]! > sizes[$1]! }
            // Keep at least one region streamed: the slots exist for it.
            for region in candidates.dropLast() where sizes[region]! <= room {
                resident.insert(region)
                residentBytes += sizes[region]!
                room -= sizes[region]!
            }
            if let spread = spreadOut(candidates: cycle.filter { sizes[$0]! <= slot }, streamedCount: candidates.count - (resident.count - mustStay.count),
                                      sizes: sizes, room: available - mustBytes - slotCount * slot) {
                resident = Set(mustStay).union(spread)
                residentBytes = mustBytes + spread.reduce(0) { $0 + sizes[$1]! }
            }
            let plan = StreamingPlan(cycle: cycle, resident: resident, slotBytes: slot, slotCount: slotCount, residentBytes: residentBytes)
            if best == nil || plan.score > best!.score { best = plan }
        }
        return best
    }

    /// The same number of streamed regions, spaced evenly around the cycle, when their resident complement fits:
    /// a streamed region then decodes while the resident ones before it compute, instead of several streamed
    /// regions in a row waiting on one decoder.
    /// - Parameter candidates: regions that may stream, in cycle order.
    /// - Returns: the regions to keep resident, or nil when the evenly spaced choice does not fit `room`.
    private static func spreadOut(candidates: [Int], streamedCount: Int, sizes: [Int: Int], room: Int) -> [Int]? {
        guard streamedCount > 0, streamedCount < candidates.count else { return nil }
        let step = Double(candidates.count) / Double(streamedCount)
        let streamed = Set((0..<streamedCount).map { candidates[Int((Double($0) + 0.5) * step)] })
        let resident = candidates.filter { !streamed.contains($0) }
        return resident.reduce(0) { $0 + sizes[$1]! } <= room ? resident : nil
    }

    /// Prefetching (two slots) first, then resident bytes.
    private var score: (Int, Int) { (slotCount, residentBytes) }

    /// The smallest pool with which a plan exists: one slot of the largest region.
    public static func minimumPoolBytes(cycle: [Int], sizes: [Int: Int]) -> Int {
        cycle.map { sizes[$0]! }.max() ?? 0
    }
}

