import Dispatch
import WStreamFormat

/// Serves units (regions, or parts of a large one; see `RegionLayout`) to the model under a `StreamingPlan`:
/// resident units from the pool, streamed ones brought in by a background queue one ahead of use, in the plan's
/// cycle order, mapped or read as `StreamingIO` says. Units are named by their index in `layouts`.
public final class LayerStreamer: @unchecked Sendable {
    /// Counters since the streamer was made.
    public struct Statistics: Sendable, Equatable {
        /// Acquisitions served by a resident unit.
        public var hits = 0
        /// Acquisitions that needed a streamed unit.
        public var misses = 0
        /// Bytes of streamed units brought into memory.
        public var bytesStreamed = 0
        /// Acquisitions that had to wait for their unit.
        public var stalls = 0
        /// Time the background queues spent bringing streamed units in, reading and checking (one unit's check
        /// overlaps the next one's read).
        public var loadSeconds = 0.0
        /// Time the model spent waiting for a streamed unit.
        public var stallSeconds = 0.0
    }

    /// A unit in memory: in a slot of the pool, or in a mapped window of the file. Only its slot holds it, from the
    /// moment it is brought in until the slot is freed: the queues pass on its address, never the value, so that a
    /// window is unmapped when its slot is freed and not when a descheduled queue thread lets go of it (a third
    /// window mapped beside the slots' two broke the budget by the head's 16 MiB in a CI run of the address-space test).
    private struct Loaded: @unchecked Sendable {
        let base: UnsafeRawPointer
        /// Keeps a mapped unit mapped until it is released.
        let window: FileWindow?
    }

    /// Where a unit that its slot holds lies: what the queues pass on, owning nothing.
    private struct Address: @unchecked Sendable {
        let base: UnsafeRawPointer
    }

    private enum SlotState {
        case free
        case loading(unit: Int)
        /// Brought in; the checking queue is reading it.
        case checking(unit: Int, Loaded)
        case ready(unit: Int, Loaded)
        case inUse(unit: Int, Loaded)
        case failed(unit: Int, error: any Error)

        var unit: Int? {
            switch self {
            case .free: nil
            case .loading(let unit), .checking(let unit, _), .ready(let unit, _), .inUse(let unit, _), .failed(let unit, _): unit
            }
        }
    }

    /// Units that are decoded (not stored as decoded) are read through mapped pieces of about this size, each
    /// unmapped before the next, so the file pages they touch never add up.
    static let decodePieceBytes = 4 << 20

    public let plan: StreamingPlan
    public let layouts: [Int: RegionLayout]
    public let io: StreamingIO
    private let reader: ContainerReader
    private let pool: BufferPool
    private var residentBase: [Int: UnsafeRawPointer] = [:]
    private var slots: [SlotState]
    /// Slot memory in the pool, or nil where mapped windows take the slots' place.
    private let slotBase: [UnsafeMutableRawPointer]?
    private let streamOrder: [Int]
    private var nextToLoad = 0
    private let lock = ConditionLock()
    /// Reads (or maps) streamed units, one at a time.
    private let queue = DispatchQueue(label: "wstream.stream")
    /// Checks the frames of what `queue` read, while `queue` reads the next unit.
    private let checkQueue = DispatchQueue(label: "wstream.stream.check")
    /// Streamed units whose mapping `mapInLargePages` has checked; touched only on `queue`.
    private var checkedForLargePages: Set<Int> = []
    private let decoder = FrameDecoder()
    private var counters = Statistics()
    private let clock = ContinuousClock()

    /// The pool `plan` needs with `io`: its resident units, and the slots unless mapped windows replace them.
    public static func poolBytes(plan: StreamingPlan, layouts: [Int: RegionLayout], io: StreamingIO) -> Int {
        needsSlotMemory(plan: plan, layouts: layouts, io: io) ? plan.poolBytes : plan.residentBytes
    }

    /// Mapped windows serve streamed units only when every one of them is stored as decoded.
    private static func needsSlotMemory(plan: StreamingPlan, layouts: [Int: RegionLayout], io: StreamingIO) -> Bool {
        io == .direct || plan.streamed.contains { !layouts[$0]!.isStoredAsDecoded }
    }

    /// The file pages decoding may hold at once: one piece and a block that crosses its end. Nothing when every
    /// unit is stored as decoded (mapped windows count as slots; reads go straight into place).
    public static func workingSetPart(reader: ContainerReader, layouts: [RegionLayout]) -> WorkingSet.Part {
        let decoded = layouts.filter { !$0.isStoredAsDecoded }.flatMap(\.placements)
        let largestBlock = decoded.flatMap { placement in
            placement.blocks.map { reader.storedRange(of: placement.tensor, blocks: $0..<$0 + 1).count }
        }.max()
        return WorkingSet.Part("decoded file pages", bytes: largestBlock.map { decodePieceBytes + $0 + 2 * ReadOnlyFile.pageSize } ?? 0)
    }

    /// Lays the resident units and slots out in `pool` (`poolBytes(plan:layouts:io:)` of it); call
    /// `loadResidentRegions()` before use.
    public init(reader: ContainerReader, plan: StreamingPlan, layouts: [Int: RegionLayout], pool: BufferPool, io: StreamingIO) {
        precondition(pool.byteCount >= Self.poolBytes(plan: plan, layouts: layouts, io: io), "pool smaller than its plan")
        self.reader = reader
        self.plan = plan
        self.layouts = layouts
        self.pool = pool
        self.io = io
        var offset = 0
        for unit in plan.cycle where plan.resident.contains(unit) {
            offset += layouts[unit]!.slotBytes
        }
        slotBase = Self.needsSlotMemory(plan: plan, layouts: layouts, io: io)
            ? (0..<plan.slotCount).map { pool.base + offset + $0 * plan.slotBytes } : nil
        slots = Array(repeating: .free, count: plan.slotCount)
        streamOrder = plan.streamed
    }

    /// Reads every resident unit into the pool, in cycle order.
    /// - Parameter progress: called after each unit with (units done, total).
    /// - Throws: `FormatError` for a failed read or a damaged frame, naming the tensor.
    public func loadResidentRegions(progress: ((Int, Int) -> Void)? = nil) throws {
        let resident = plan.cycle.filter { plan.resident.contains($0) }
        var offset = 0
        for (done, unit) in resident.enumerated() {
            residentBase[unit] = try load(unit, into: pool.base + offset).base
            offset += layouts[unit]!.slotBytes
            progress?(done + 1, resident.count)
        }
        lock.withLock { scheduleLoads() }
    }

    public var statistics: Statistics { lock.withLock { counters } }

    /// Resident unit `unit` in its place in the pool, which the caller may rearrange before the first `acquire(_:)`
    /// (the streamer never reads it again); nil for a streamed unit. Not counted as an acquisition.
    public func residentRegion(_ unit: Int) -> DecodedRegion? {
        residentBase[unit].map { DecodedRegion(layout: layouts[unit]!, base: $0) }
    }

    /// Unit `unit` in memory, waiting for it when it is streamed. Pair every call with `release(_:)`.
    /// - Throws: the error that bringing that unit in met (a failed read, a damaged frame).
    public func acquire(_ unit: Int) throws -> DecodedRegion {
        if let base = residentBase[unit] {
            lock.withLock { counters.hits += 1 }
            return DecodedRegion(layout: layouts[unit]!, base: base)
        }
        return try lock.withLock {
            counters.misses += 1
            if slotIndex(holding: unit) == nil { realign(to: unit) }
            var waited = false
            let start = clock.now
            lock.wait {
                // Slots still loading other units (after an error, or out-of-order use) become ready later:
                // realign again then, freeing them for this unit.
                guard let index = slotIndex(holding: unit) else {
                    realign(to: unit)
                    return false
                }
                switch slots[index] {
                case .loading, .checking: waited = true; return false
                default: return true
                }
            }
            if waited {
                counters.stalls += 1
                counters.stallSeconds += (clock.now - start).seconds
            }
            let index = slotIndex(holding: unit)!
            switch slots[index] {
            case .failed(_, let error):
                slots[index] = .free
                scheduleLoads()
                throw error
            case .ready(_, let loaded):
                slots[index] = .inUse(unit: unit, loaded)
                return DecodedRegion(layout: layouts[unit]!, base: loaded.base)
            default:
                preconditionFailure("unit \(unit) acquired twice")
            }
        }
    }

    /// Gives back a unit obtained from `acquire(_:)`; a streamed unit's slot is reused at once (a mapped one unmapped).
    public func release(_ unit: Int) {
        guard residentBase[unit] == nil else { return }
        lock.withLock {
            for index in slots.indices {
                if case .inUse(let held, _) = slots[index], held == unit {
                    slots[index] = .free
                    break
                }
            }
            scheduleLoads()
        }
    }

    /// Waits for any load in flight, so the pool can be torn down safely.
    public func drain() {
        queue.sync {}
        checkQueue.sync {}
    }

    // MARK: - Scheduling (all called with `lock` held)

    private func slotIndex(holding unit: Int) -> Int? {
        slots.indices.first { slots[$0].unit == unit }
    }

    /// The model asked for a unit out of the expected order (first use, or after an error): drop prefetched units
    /// and continue the cycle from the requested one.
    private func realign(to unit: Int) {
        for index in slots.indices {
            switch slots[index] {
            case .ready, .failed: slots[index] = .free
            default: break
            }
        }
        nextToLoad = streamOrder.firstIndex(of: unit)!
        scheduleLoads()
    }

    /// Starts bringing the next streamed units of the cycle into free slots.
    private func scheduleLoads() {
        guard !streamOrder.isEmpty else { return }
        while let free = slots.firstIndex(where: { if case .free = $0 { return true } else { return false } }) {
            let unit = streamOrder[nextToLoad]
            // A unit already in a slot (the cycle wrapped around with few streamed units) is not loaded twice.
            if slotIndex(holding: unit) != nil { return }
            nextToLoad = (nextToLoad + 1) % streamOrder.count
            slots[free] = .loading(unit: unit)
            // Two stages, so that the disk reads the next unit while this one's checksums are computed: read on
            // `queue`, check on `checkQueue`. The slot is `loading`, then `checking`, until both are done.
            queue.async { [self] in
                let start = clock.now
                let brought = bringIntoSlot(unit, free)
                let readSeconds = (clock.now - start).seconds
                checkQueue.async { [self] in
                    let start = clock.now
                    let checked = brought.flatMap { address in Result { try check(unit, at: address.base) } }
                    let elapsed = readSeconds + (clock.now - start).seconds
                    lock.withLock {
                        counters.loadSeconds += elapsed
                        switch (checked, slots[free]) {
                        case (.success, .checking(_, let loaded)):
                            counters.bytesStreamed += layouts[unit]!.byteCount
                            slots[free] = .ready(unit: unit, loaded)
                        case (.failure(let error), _):
                            slots[free] = .failed(unit: unit, error: error)
                        default:
                            preconditionFailure("slot \(free) left its check")
                        }
                        lock.broadcast()
                    }
                }
            }
        }
    }

    /// Brings `unit` into slot `slot` (`bring(_:into:)`) and marks it `checking`, holding it there alone.
    /// - Returns: the unit's address, or the error that bringing it in met.
    private func bringIntoSlot(_ unit: Int, _ slot: Int) -> Result<Address, any Error> {
        do {
            let loaded = try bring(unit, into: slotBase?[slot])
            lock.withLock { slots[slot] = .checking(unit: unit, loaded) }
            return .success(Address(base: loaded.base))
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Loading

    /// Brings `unit` into memory at `destination` (`slotBytes` of it), or maps it when `destination` is nil, and checks
    /// its frames.
    private func load(_ unit: Int, into destination: UnsafeMutableRawPointer?) throws -> Loaded {
        let loaded = try bring(unit, into: destination)
        try check(unit, at: loaded.base)
        return loaded
    }

    /// Reads, maps or decodes `unit` as `load(_:into:)` does, without checking a stored-as-decoded unit's frames.
    private func bring(_ unit: Int, into destination: UnsafeMutableRawPointer?) throws -> Loaded {
        let layout = layouts[unit]!
        guard layout.isStoredAsDecoded else {
            // Decoding checks each frame as it goes.
            try decode(layout, into: destination!)
            return Loaded(base: destination!, window: nil)
        }
        let range = layout.storedRange
        let loaded: Loaded
        if let destination {
            let page = ReadOnlyFile.pageSize
            let alignedStart = range.lowerBound / page * page
            let base = destination + (range.lowerBound - alignedStart)
            if io == .direct {
                let alignedEnd = (range.upperBound + page - 1) / page * page
                try reader.file.readDirect(into: UnsafeMutableRawBufferPointer(start: destination, count: alignedEnd - alignedStart), at: alignedStart)
            } else {
                try reader.file.read(into: UnsafeMutableRawBufferPointer(start: base, count: range.count), at: range.lowerBound)
            }
            loaded = Loaded(base: base, window: nil)
        } else {
            let window = try mapInLargePages(unit, range)
            loaded = Loaded(base: window.bytes.baseAddress!, window: window)
        }
        return loaded
    }

    /// Checks the frames of `unit`, stored as decoded and brought in by `bring(_:into:)` at `base`.
    private func check(_ unit: Int, at base: UnsafeRawPointer) throws {
        let layout = layouts[unit]!
        guard layout.isStoredAsDecoded else { return }
        let range = layout.storedRange
        let stored = StoredBytes(UnsafeRawBufferPointer(start: base, count: range.count), fileOffset: range.lowerBound)
        for placement in layout.placements {
            // With `.direct` every unit is read past the page cache, from the disk each pass, so each pass checks it; mapped
            // bytes and buffered reads come from the page cache, which keeps what was checked the first time.
            try reader.checkFrames(placement.tensor, blocks: placement.blocks, stored: stored, everyTime: io == .direct)
        }
    }

    /// Maps `range`, the stored bytes of streamed `unit`, populated.
    ///
    /// Computing on a window in 4 KiB pages costs the kernel a page-table entry per page on every pass: at
    /// `--budget 350M` on the LFM2-1.2B shape, 438 MB a token, that was a third of both cores' time, and decode ran at
    /// 17.6 tok/s against 45.4 with the file in 2 MiB pages. Which one a window gets depends on how the page cache
    /// came to hold the file (a file just written, or read in small pieces, stays in small folios), so the first
    /// time a unit is mapped its window is checked, and one that maps fewer of its whole 2 MiB stretches as such than
    /// it spans is dropped from the page cache and read again, from the disk and in 2 MiB folios (`ReadCalls.map`).
    /// A page cache part small and part large (read under a memory cgroup's limit, for one) is as slow as an all
    /// small one: 22–26 tok/s at `--budget 350M` on LFM2-1.2B with about 60 % of the windows in 2 MiB pages.
    /// Pages another process maps stay; such a unit is not tried again.
    private func mapInLargePages(_ unit: Int, _ range: Range<Int>) throws -> FileWindow {
        var window: FileWindow? = try reader.file.map(range, populate: true)
        guard checkedForLargePages.insert(unit).inserted, let mapped = window!.largePageBytes,
              mapped < window!.largePageCount * FileWindow.largePageSize else { return window! }
        window = nil  // unmapped, so that nothing of ours keeps its pages in the page cache
        // Whole 2 MiB stretches, so that no small folio left beside the range keeps its ends from being read large.
        let large = FileWindow.largePageSize
        reader.file.evictFromPageCache((range.lowerBound / large * large)..<((range.upperBound + large - 1) / large * large))
        return try reader.file.map(range, populate: true)
    }

    /// Decodes every placement of `layout` into `destination`, mapping the file a piece of whole blocks at a time.
    private func decode(_ layout: RegionLayout, into destination: UnsafeMutableRawPointer) throws {
        for placement in layout.placements {
            let tensor = placement.tensor
            var first = placement.blocks.lowerBound
            var written = placement.offset
            while first < placement.blocks.upperBound {
                var end = first + 1
                while end < placement.blocks.upperBound,
                      reader.storedRange(of: tensor, blocks: first..<end + 1).count <= Self.decodePieceBytes { end += 1 }
                let window = try reader.file.map(reader.storedRange(of: tensor, blocks: first..<end))
                let bytes = (first..<end).reduce(0) { $0 + tensor.decodedByteCount(ofBlock: $1) }
                try reader.decode(tensor, blocks: first..<end, stored: StoredBytes(window.bytes, fileOffset: window.range.lowerBound),
                                  into: UnsafeMutableRawBufferPointer(start: destination + written, count: bytes), using: decoder)
                written += bytes
                first = end
            }
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
