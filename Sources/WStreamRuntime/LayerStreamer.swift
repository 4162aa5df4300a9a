import Dispatch
import WStreamFormat

/// Serves decoded units (regions, or parts of a large one; see `RegionLayout`) to the model under a
/// `StreamingPlan`: resident units from the pool, streamed ones decoded into reusable slots on a background
/// queue, one ahead of use. Units are named by their index in `layouts`; the plan's cycle lists them.
///
/// Decoding reads the mapped file; the pages it touched are released (`MADV_DONTNEED`) every few MiB,
/// so file-backed pages never accumulate in the resident set.
public final class LayerStreamer: @unchecked Sendable {
    /// Counters since the streamer was made.
    public struct Statistics: Sendable, Equatable {
        /// Acquisitions served by a resident region.
        public var hits = 0
        /// Acquisitions that needed a streamed region.
        public var misses = 0
        /// Decoded bytes produced for streamed regions.
        public var bytesDecoded = 0
        /// Acquisitions that had to wait for their region's decode to finish.
        public var stalls = 0
        /// Time the background queue spent decoding streamed regions.
        public var decodeSeconds = 0.0
        /// Time the model spent waiting for a streamed region.
        public var stallSeconds = 0.0
    }

    private enum SlotState {
        case free
        case decoding(region: Int)
        case ready(region: Int)
        case inUse(region: Int)
        case failed(region: Int, error: any Error)
    }

    /// File pages read while decoding are dropped after this many bytes.
    public static let releaseGranularity = 4 << 20

    /// The file pages decoding may hold between two releases: the pending range, one frame that crosses its end,
    /// and a release window on each side (a read fault may map a whole page-cache folio: see
    /// `ContainerReader.releaseWindow`).
    public static func workingSetPart(reader: ContainerReader) -> WorkingSet.Part {
        let largestFrame = reader.metadata.tensors.flatMap(\.frames).map { Int($0.storedLength) }.max() ?? 0
        return WorkingSet.Part("streamed file pages", bytes: releaseGranularity + largestFrame + 2 * ContainerReader.releaseWindow)
    }

    public let plan: StreamingPlan
    public let layouts: [Int: RegionLayout]
    private let reader: ContainerReader
    private let pool: BufferPool
    private var residentBase: [Int: UnsafeMutableRawPointer] = [:]
    private var slots: [SlotState]
    private let slotBase: [UnsafeMutableRawPointer]
    private let streamOrder: [Int]
    private var nextToDecode = 0
    private let lock = ConditionLock()
    private let queue = DispatchQueue(label: "wstream.decode")
    private let decoder: FrameDecoder
    private var counters = Statistics()
    private let clock = ContinuousClock()

    /// Lays the resident regions and slots out in `pool`; call `loadResidentRegions()` before use.
    public init(reader: ContainerReader, plan: StreamingPlan, layouts: [Int: RegionLayout], pool: BufferPool) {
        precondition(pool.byteCount >= plan.poolBytes, "pool smaller than its plan")
        self.reader = reader
        self.plan = plan
        self.layouts = layouts
        self.pool = pool
        self.decoder = FrameDecoder()
        var offset = 0
        for region in plan.cycle where plan.resident.contains(region) {
            residentBase[region] = pool.base + offset
            offset += layouts[region]!.byteCount
        }
        slotBase = (0..<plan.slotCount).map { pool.base + offset + $0 * plan.slotBytes }
        slots = Array(repeating: .free, count: plan.slotCount)
        streamOrder = plan.streamed
    }

    /// Decodes every resident region into the pool, in cycle order.
    /// - Parameter progress: called after each region with (regions done, total).
    public func loadResidentRegions(progress: ((Int, Int) -> Void)? = nil) throws {
        let resident = plan.cycle.filter { plan.resident.contains($0) }
        for (done, region) in resident.enumerated() {
            _ = try decode(region: region, into: residentBase[region]!, using: decoder)
            progress?(done + 1, resident.count)
        }
        lock.withLock { scheduleDecodes() }
    }

    public var statistics: Statistics { lock.withLock { counters } }

    /// The decoded region `region`, waiting for its decode when it is streamed.
    /// Pair every call with `release(_:)`.
    /// - Throws: the decode error (e.g. a damaged frame) for that region.
    public func acquire(_ region: Int) throws -> DecodedRegion {
        if let base = residentBase[region] {
            lock.withLock { counters.hits += 1 }
            return DecodedRegion(layout: layouts[region]!, base: UnsafeRawPointer(base))
        }
        return try lock.withLock {
            counters.misses += 1
            if slotIndex(holding: region) == nil { realign(to: region) }
            var waited = false
            let start = clock.now
            lock.wait {
                // Slots still decoding other units (after an error, or out-of-order use) become ready later:
                // realign again then, freeing them for this unit.
                guard let index = slotIndex(holding: region) else {
                    realign(to: region)
                    return false
                }
                if case .decoding = slots[index] { waited = true; return false }
                return true
            }
            if waited {
                counters.stalls += 1
                counters.stallSeconds += (clock.now - start).seconds
            }
            let index = slotIndex(holding: region)!
            if case .failed(_, let error) = slots[index] {
                slots[index] = .free
                scheduleDecodes()
                throw error
            }
            slots[index] = .inUse(region: region)
            return DecodedRegion(layout: layouts[region]!, base: UnsafeRawPointer(slotBase[index]))
        }
    }

    /// Gives back a region obtained from `acquire(_:)`; a streamed region's slot is reused at once.
    public func release(_ region: Int) {
        guard residentBase[region] == nil else { return }
        lock.withLock {
            for index in slots.indices {
                if case .inUse(let held) = slots[index], held == region {
                    slots[index] = .free
                    break
                }
            }
            scheduleDecodes()
        }
    }

    /// Waits for any decode in flight, so the pool can be torn down safely.
    public func drain() {
        queue.sync {}
    }

    // MARK: - Scheduling (all called with `lock` held)

    private func slotIndex(holding region: Int) -> Int? {
        slots.indices.first { index in
            switch slots[index] {
            case .decoding(let r), .ready(let r), .inUse(let r), .failed(let r, _): return r == region
            case .free: return false
            }
        }
    }

    /// The model asked for a region out of the expected order (first use, or after an error):
    /// drop prefetched regions and continue the cycle from the requested one.
    private func realign(to region: Int) {
        for index in slots.indices {
            if case .ready = slots[index] { slots[index] = .free }
            if case .failed = slots[index] { slots[index] = .free }
        }
        nextToDecode = streamOrder.firstIndex(of: region)!
        scheduleDecodes()
    }

    /// Starts decoding the next streamed regions of the cycle into free slots.
    private func scheduleDecodes() {
        guard !streamOrder.isEmpty else { return }
        while let free = slots.firstIndex(where: { if case .free = $0 { return true } else { return false } }) {
            let region = streamOrder[nextToDecode]
            // A region already in a slot (the cycle wrapped around with few streamed regions) is not decoded twice.
            if slotIndex(holding: region) != nil { return }
            nextToDecode = (nextToDecode + 1) % streamOrder.count
            slots[free] = .decoding(region: region)
            queue.async { [self] in
                let start = clock.now
                let outcome = Result { try decode(region: region, into: slotBase[free], using: decoder) }
                let elapsed = (clock.now - start).seconds
                lock.withLock {
                    counters.decodeSeconds += elapsed
                    switch outcome {
                    case .success(let bytes):
                        counters.bytesDecoded += bytes
                        slots[free] = .ready(region: region)
                    case .failure(let error):
                        slots[free] = .failed(region: region, error: error)
                    }
                    lock.broadcast()
                }
            }
        }
    }

    // MARK: - Decoding

    /// Decodes all tensors of `region` into `destination`, releasing the file pages it reads as it goes.
    private func decode(region: Int, into destination: UnsafeMutableRawPointer, using decoder: FrameDecoder) throws -> Int {
        let layout = layouts[region]!
        var pending: (start: UInt64, end: UInt64)?
        func releasePending() {
            if let range = pending { reader.adviseDontNeed(fileRange: Int(range.start)..<Int(range.end)) }
            pending = nil
        }
        defer { releasePending() }
        for placement in layout.placements {
            let tensor = placement.tensor
            let first = tensor.decodedOffset(ofBlock: placement.blocks.lowerBound)
            for block in placement.blocks {
                let start = destination + placement.offset + tensor.decodedOffset(ofBlock: block) - first
                let frames = tensor.frames[tensor.frameRange(ofBlock: block)]
                try reader.decodeBlock(tensor, block: block,
                                       into: UnsafeMutableRawBufferPointer(start: start, count: tensor.decodedByteCount(ofBlock: block)),
                                       using: decoder)
                let firstByte = frames.first!.offset
                let lastByte = frames.last!.offset + frames.last!.storedLength
                pending = (min(pending?.start ?? firstByte, firstByte), max(pending?.end ?? lastByte, lastByte))
                if let range = pending, range.end - range.start >= UInt64(Self.releaseGranularity) { releasePending() }
            }
        }
        return layout.byteCount
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
