/// Everything one `wstream bench` measured: the machine, the model at each budget (on the host, and inside a memory
/// cgroup of the same size), and a llama.cpp peer on the same weights when one was given. `--json` prints it.
struct BenchReport: Encodable {
    struct Machine: Encodable {
        var cpu: String
        /// The CPU's vector instruction sets, from /proc/cpuinfo (`avx2 avx512f avx512_vnni`, …).
        var cpuFlags: String
        /// The integer kernels this build uses: AVX-512 VNNI, AVX2 or portable SIMD.
        var kernels: String
        var threads: Int
        /// Bytes per second read from memory by `threads` threads: the median of `memoryBandwidthSamples`.
        var memoryBandwidth: Double { memoryBandwidthSamples.median }
        /// The memory probe's readings, one before the runs and, with a peer, one after each host round: the
        /// machine is shared, and one reading can land in a busy or a quiet moment. Each holds its measurements
        /// (five, of equal bytes), bytes per second.
        var memoryBandwidthReadings: [[Double]] = []
        /// Each reading's fastest measurement, the memory's peak at that moment.
        var memoryBandwidthSamples: [Double] { memoryBandwidthReadings.compactMap { $0.max() } }
        /// Every measurement of every reading.
        var memoryBandwidthMeasurements: [Double] { memoryBandwidthReadings.flatMap { $0 } }
        /// The rate over all of `memoryBandwidthMeasurements` (their bytes over their time): what the bus gave on
        /// average, the figure to set a run's average against where `memoryBandwidth` is the peak.
        var averageMemoryBandwidth: Double {
            let measurements = memoryBandwidthMeasurements
            return measurements.isEmpty ? 0 : Double(measurements.count) / measurements.reduce(0) { $0 + 1 / $1 }
        }
        /// Bytes per second read from the model's file system past the page cache (8 MiB `O_DIRECT` reads).
        var diskBandwidth: Double?
        /// False when the file system refused `O_DIRECT` (the figure is then the page cache's).
        var diskBypassesPageCache: Bool

        private enum CodingKeys: String, CodingKey {
            case cpu, cpuFlags, kernels, threads, memoryBandwidth, memoryBandwidthSamples, memoryBandwidthMeasurements, averageMemoryBandwidth
            case diskBandwidth, diskBypassesPageCache
        }

        /// Every field, the readings flattened into their peaks and their measurements, and the two figures the shares
        /// use (`memoryBandwidth`, `averageMemoryBandwidth`), which JSON readers would otherwise recompute.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cpu, forKey: .cpu)
            try container.encode(cpuFlags, forKey: .cpuFlags)
            try container.encode(kernels, forKey: .kernels)
            try container.encode(threads, forKey: .threads)
            try container.encode(memoryBandwidth, forKey: .memoryBandwidth)
            try container.encode(memoryBandwidthSamples, forKey: .memoryBandwidthSamples)
            try container.encode(memoryBandwidthMeasurements, forKey: .memoryBandwidthMeasurements)
            try container.encode(averageMemoryBandwidth, forKey: .averageMemoryBandwidth)
            try container.encodeIfPresent(diskBandwidth, forKey: .diskBandwidth)
            try container.encode(diskBypassesPageCache, forKey: .diskBypassesPageCache)
        }
    }

    /// One run of the model in a fresh process.
    struct Run: Encodable {
        /// The `--budget` given.
        var budget: String
        var budgetBytes: Int
        /// The memory cgroup's limit the run was inside, nil on the host.
        var memoryLimit: Int?
        /// `ok`, `below minimum`, `failed`.
        var outcome: String
        var detail: String?
        var statistics: StatisticsRecord?
        /// The cgroup's peak usage (page cache included) and the kernel's OOM kills in it.
        var cgroupPeakBytes: Int?
        var outOfMemoryKills: Int?
    }

    /// One run of the peer (`llama-bench`) on its GGUF of the same weights.
    struct PeerRun: Encodable {
        var memoryLimit: Int?
        var prefillTokensPerSecond: Double?
        var decodeTokensPerSecond: Double?
        /// Why there is no figure (a timeout, a failure).
        var detail: String?
    }

    var model: String
    var promptTokens: Int
    var generatedTokens: Int
    var machine: Machine
    var runs: [Run]
    var cgroupRuns: [Run]
    /// Why the cgroup runs were skipped, when they were asked for and could not be made.
    var cgroupSkipped: String?
    var peer: String?
    /// The size of the peer's GGUF: about the bytes its decode step reads (every weight, and its head once more
    /// where the head is tied to the embeddings, which is one row).
    var peerFileBytes: Int?
    var peerRuns: [PeerRun]
    /// With a peer: the all-resident comparison on the host, made in rounds.
    var hostRounds: HostRounds?

    /// Our host runs at each budget, in the order of `runs`: every round's with a peer, else the one.
    var hostRuns: [[Run]] { hostRounds?.ours ?? runs.map { [$0] } }

    /// Where in `runs` the first budget that held the whole model stands (nil when every budget streamed or failed).
    var allResidentIndex: Int? { runs.firstIndex { $0.statistics?.streamedRegions == 0 } }

    /// Our host runs at the first budget that held the whole model (none when every budget streamed).
    var allResidentRuns: [Run] { allResidentIndex.map { hostRuns[$0] } ?? [] }

    /// The host runs in rounds, when a peer is given and a budget holds the whole model: ours at every budget, then in
    /// each round the peer's run and ours again at every budget that ran.
    ///
    /// The machine is shared and its memory bandwidth drifts over the minutes a bench takes, so one run can land in
    /// different weather from another. Rounds put both sides, and every budget, in the same stretches of time, and
    /// each figure is a median, which one disturbed run cannot move.
    struct HostRounds: Encodable {
        /// Our runs at each budget, in the order of `BenchReport.runs` (whose entries are the first of each).
        var ours: [[Run]]
        var peer: [PeerRun]
        /// The first budget that held the whole model: the one the peer is set against.
        var allResidentIndex: Int

        /// Our runs at the all-resident budget.
        var allResident: [Run] { ours[allResidentIndex] }

        /// The median of our all-resident runs' prefill and decode tokens/s.
        var ourMedian: (prefill: Double, decode: Double)? { Self.median(allResident) }

        /// The median prefill and decode tokens/s of `runs` (those that ran).
        static func median(_ runs: [Run]) -> (prefill: Double, decode: Double)? {
            let figures = runs.compactMap(\.statistics)
            guard !figures.isEmpty else { return nil }
            return (figures.map(\.prefillTokensPerSecond).median, figures.map(\.decodeTokensPerSecond).median)
        }

        /// The fastest decode tokens/s of our all-resident runs and of the peer's.
        var fastestDecode: (ours: Double?, peer: Double?) {
            (allResident.compactMap { $0.statistics?.decodeTokensPerSecond }.max(), peer.compactMap(\.decodeTokensPerSecond).max())
        }

        /// The peer's runs as one: the median of its figures, the first run's detail.
        var peerMedian: PeerRun {
            var run = PeerRun(memoryLimit: nil, detail: peer.compactMap(\.detail).first)
            let prefill = peer.compactMap(\.prefillTokensPerSecond), decode = peer.compactMap(\.decodeTokensPerSecond)
            run.prefillTokensPerSecond = prefill.isEmpty ? nil : prefill.median
            run.decodeTokensPerSecond = decode.isEmpty ? nil : decode.median
            return run
        }
    }

    /// The decode speed the disk allows a run: its bandwidth ÷ the bytes the run streamed per token.
    func diskBoundTokensPerSecond(_ run: Run) -> Double? {
        guard let disk = machine.diskBandwidth, let bytes = run.statistics?.bytesStreamedPerToken, bytes > 0 else { return nil }
        return disk / Double(bytes)
    }
}

extension Array where Element == Double {
    /// The middle value (the mean of the two middle ones for an even count); 0 when empty.
    var median: Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted(), middle = count / 2
        return count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
