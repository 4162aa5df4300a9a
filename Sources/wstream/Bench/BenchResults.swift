import WStreamRuntime

/// `bench/results.md` and `bench/chart.svg`: the report as tables with the ratios that matter (share of the memory
/// bandwidth, of the disk-bound limit, against the peer), and decode tokens/s against memory as a chart.
enum BenchResults {
    static func markdown(_ report: BenchReport) -> String {
        let machine = report.machine
        var lines = [
            "# wstream bench: \(report.model)",
            "",
            "\(report.promptTokens) prompt tokens, \(report.generatedTokens) generated greedily, \(machine.threads) threads.",
            "",
            "| machine | |",
            "| --- | --- |",
            "| CPU | \(machine.cpu) |",
            "| vector instructions | \(machine.cpuFlags) |",
            "| kernels | \(machine.kernels) |",
            "| memory bandwidth (\(machine.threads) threads) | \(gigabytes(machine.memoryBandwidth))/s\(probeSpread(machine.memoryBandwidthSamples)) |",
            "| its average over all \(machine.memoryBandwidthMeasurements.count) measurements | \(gigabytes(machine.averageMemoryBandwidth))/s |",
            "| disk bandwidth (8 MiB reads, \(machine.diskBypassesPageCache ? "O_DIRECT" : "page cache: O_DIRECT refused")) | \(gigabytes(machine.diskBandwidth))/s |",
            "",
            "## On the host",
            "",
            "The probe's readings are each the fastest of five measurements, the memory's peak; a run's decode is its average over "
                + "every token, which meets the bus's busy moments too, so it is also set against the average of every measurement."
                + (report.hostRounds.map { " Each budget that ran did so \($0.allResident.count) times, in turn with the others and the peer: "
                    + "its prefill and decode are the medians, its peak RSS the highest." } ?? ""),
            "",
            "| budget | peak RSS | prefill tok/s | decode tok/s | of all resident | weights read | of memory bandwidth | of its average | resident / streamed | streamed per token |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        let allResident = BenchReport.HostRounds.median(report.allResidentRuns)?.decode
        for (run, runs) in zip(report.runs, report.hostRuns) {
            guard let s = run.statistics, let median = BenchReport.HostRounds.median(runs) else {
                lines.append("| \(run.budget) | \(run.outcome)\(run.detail.map { ": \($0)" } ?? "") | | | | | | | | |")
                continue
            }
            let peak = runs.compactMap { $0.statistics?.peakResidentBytes }.max() ?? s.peakResidentBytes
            let rate = Double(s.weightBytes) * median.decode
            lines.append("| \(run.budget) | \(ByteCount.format(peak)) | \(Terminal.decimal(median.prefill)) | \(Terminal.decimal(median.decode)) | "
                + "\(allResident.map { ratio(median.decode, $0) } ?? "–") | \(gigabytes(rate))/s | \(percent(rate / machine.memoryBandwidth)) | "
                + "\(percent(rate / machine.averageMemoryBandwidth)) | \(s.residentRegions) / \(s.streamedRegions) | \(Terminal.megabytes(s.bytesStreamedPerToken)) |")
        }
        if let skipped = report.cgroupSkipped {
            lines += ["", "## In a memory cgroup", "", "Skipped: \(skipped)."]
        } else if !report.cgroupRuns.isEmpty {
            lines += [
                "", "## In a memory cgroup of each size (page cache dropped first; `--budget` = limit ÷ 1.1)", "",
                "| limit | cgroup peak | OOM kills | decode tok/s | disk-bound limit | of the limit | streamed per token | io |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for run in report.cgroupRuns {
                let limit = run.memoryLimit.map(ByteCount.format) ?? run.budget
                guard let s = run.statistics else {
                    lines.append("| \(limit) | \(run.outcome)\(run.detail.map { ": \($0)" } ?? "") | \(run.outOfMemoryKills ?? 0) | | | | | |")
                    continue
                }
                let bound = report.diskBoundTokensPerSecond(run)
                lines.append("| \(limit) | \(run.cgroupPeakBytes.map(ByteCount.format) ?? "–") | \(run.outOfMemoryKills ?? 0) | \(Terminal.decimal(s.decodeTokensPerSecond)) | \(bound.map { Terminal.decimal($0) } ?? "–") | \(bound.map { percent(s.decodeTokensPerSecond / $0) } ?? "–") | \(Terminal.megabytes(s.bytesStreamedPerToken)) | \(s.streamingIO ?? "resident") |")
            }
        }
        if let peer = report.peer, !report.peerRuns.isEmpty {
            lines += ["", "## Against the peer: \(peer)", "",
                      "Its decode runs after as many tokens of context as ours (`llama-bench -d`)."
                        + (report.hostRounds.map { " On the host, each side's figures are the median of its runs made alternately (\($0.allResident.count) of ours, \($0.peer.count) of the peer's, ours first and last)." } ?? ""),
                      "", "| where | wstream prefill | peer prefill | ratio | wstream decode | peer decode | ratio |", "| --- | --- | --- | --- | --- | --- | --- |"]
            for peerRun in report.peerRuns {
                let ours = peerRun.memoryLimit.flatMap { limit in report.cgroupRuns.first { $0.memoryLimit == limit } }
                    ?? report.allResidentIndex.map { report.runs[$0] }
                let where_ = peerRun.memoryLimit.map { "cgroup \(ByteCount.format($0))" } ?? "host, all resident"
                var prefill = ours?.statistics?.prefillTokensPerSecond, decode = ours?.statistics?.decodeTokensPerSecond
                if peerRun.memoryLimit == nil, let median = report.hostRounds?.ourMedian {
                    (prefill, decode) = (median.prefill, median.decode)
                }
                lines.append("| \(where_) | \(number(prefill)) | \(number(peerRun.prefillTokensPerSecond)) | \(ratio(prefill, peerRun.prefillTokensPerSecond)) | \(number(decode)) | \(number(peerRun.decodeTokensPerSecond)) \(peerRun.detail ?? "") | \(ratio(decode, peerRun.decodeTokensPerSecond)) |")
            }
            if let bytes = report.peerFileBytes, let peerDecode = report.peerRuns.first(where: { $0.memoryLimit == nil })?.decodeTokensPerSecond {
                let rate = Double(bytes) * peerDecode
                var sentence = "On the host the peer reads about its file's \(Terminal.megabytes(bytes)) per token: \(gigabytes(rate))/s of weights at "
                    + "its median, \(percent(rate / machine.memoryBandwidth)) of the memory bandwidth measured above "
                    + "(\(percent(rate / machine.averageMemoryBandwidth)) of its average)"
                if let median = report.hostRounds?.ourMedian, let weightBytes = report.hostRounds?.allResident.first?.statistics?.weightBytes {
                    let ours = Double(weightBytes) * median.decode
                    sentence += "; wstream \(gigabytes(ours))/s at its median, \(percent(ours / machine.memoryBandwidth)) "
                        + "(\(percent(ours / machine.averageMemoryBandwidth)) of its average)"
                }
                lines += ["", sentence + "."]
                if let rounds = report.hostRounds, machine.memoryBandwidthSamples.count > 1, let quiet = machine.memoryBandwidthSamples.max(),
                   let weightBytes = rounds.allResident.first?.statistics?.weightBytes, case let (ours?, peer?) = rounds.fastestDecode {
                    // On a shared machine the bus has calmer and busier stretches; the fastest runs met the calmest.
                    let oursRate = Double(weightBytes) * ours, peerRate = Double(bytes) * peer
                    lines += ["", "The fastest runs against the probe's highest reading (\(gigabytes(quiet))/s): wstream \(Terminal.decimal(ours)) tok/s, "
                        + "\(gigabytes(oursRate))/s, \(percent(oursRate / quiet)); the peer \(Terminal.decimal(peer)) tok/s, \(gigabytes(peerRate))/s, "
                        + "\(percent(peerRate / quiet)); \(ratio(ours, peer))."]
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// ", the median of n readings from a to b" when the probe read more than once.
    private static func probeSpread(_ samples: [Double]) -> String {
        guard samples.count > 1, let low = samples.min(), let high = samples.max() else { return "" }
        return ", the median of \(samples.count) readings from \(gigabytes(low))/s to \(gigabytes(high))/s"
    }

    /// Decode tokens/s against memory: the host runs by budget (their medians with rounds), the cgroup runs and the
    /// peer's by limit.
    static func chart(_ report: BenchReport) -> BenchChart {
        func points(_ runs: [[BenchReport.Run]], limit: Bool) -> [(x: Double, y: Double)] {
            runs.compactMap { runs in
                guard let run = runs.first, let median = BenchReport.HostRounds.median(runs) else { return nil }
                return (Double((limit ? run.memoryLimit : nil) ?? run.budgetBytes) / Double(1 << 20), median.decode)
            }
        }
        var series = [BenchChart.Series(name: "wstream, host", color: "#1f77b4", points: points(report.hostRuns, limit: false))]
        if !report.cgroupRuns.isEmpty {
            series.append(BenchChart.Series(name: "wstream, cgroup", color: "#2ca02c", points: points(report.cgroupRuns.map { [$0] }, limit: true)))
        }
        let peerPoints = report.peerRuns.compactMap { run in
            run.memoryLimit.flatMap { limit in run.decodeTokensPerSecond.map { (Double(limit) / Double(1 << 20), $0) } }
        }
        if !peerPoints.isEmpty { series.append(BenchChart.Series(name: "llama.cpp, cgroup", color: "#d62728", points: peerPoints)) }
        return BenchChart(title: "Decode tokens/s against memory — \(report.model.split(separator: "/").last ?? "")",
                          xLabel: "budget or memory limit (MiB)", yLabel: "decode tokens/s", series: series)
    }

    private static func gigabytes(_ bytes: Double?) -> String { bytes.map { Terminal.decimal($0 / 1e9) + " GB" } ?? "–" }
    private static func percent(_ value: Double) -> String { Terminal.decimal(value * 100) + " %" }
    private static func number(_ value: Double?) -> String { value.map { Terminal.decimal($0) } ?? "–" }
    private static func ratio(_ ours: Double?, _ theirs: Double?) -> String {
        guard let ours, let theirs, theirs > 0 else { return "–" }
        return Terminal.decimal(ours / theirs, places: 2) + "×"
    }
}
