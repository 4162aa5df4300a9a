import FoundationEssentials
import Glibc
import Testing
import TestSupport

/// `wstream bench` runs each budget in a fresh child and reports it, including budgets below the minimum.
@Suite(.serialized) struct BenchCommandTests {
    /// The report `--json` prints, as much of it as the test reads.
    struct Report: Decodable {
        struct Machine: Decodable {
            let diskBandwidth: Double?
            let memoryBandwidth: Double
            let memoryBandwidthMeasurements: [Double]
            let averageMemoryBandwidth: Double
        }
        struct Run: Decodable {
            struct Statistics: Decodable {
                let peak_resident_bytes: Int
                let decode_tokens_per_second: Double
                let streamed_regions: Int
                let weight_bytes: Int
            }
            let budget: String
            let outcome: String
            let detail: String?
            let statistics: Statistics?
        }
        let machine: Machine
        let runs: [Run]
    }

    @Test func benchReportsEachBudgetTheMinimumAndTheDiskAndWritesItsResults() throws {
        let model = try Fixtures.synthetic()
        let output = Fixtures.scratch.file("bench-results")
        let result = try WStreamExecutable.run(
            "bench", model.path, "--budgets", "1G,\(BudgetTests.budget),8M", "--prompt-tokens", "16", "--generate", "8", "--json",
            "--output", output)
        #expect(result.succeeded, "\(result)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect((report.machine.diskBandwidth ?? 0) > 0, "the disk probe ran")
        // One reading of five measurements: its peak is the fastest, and the average over them lies below it.
        let machine = report.machine
        #expect(machine.memoryBandwidthMeasurements.count == 5 && machine.memoryBandwidth == machine.memoryBandwidthMeasurements.max())
        // Equal bytes per measurement: their bytes over their time is the harmonic mean of the rates.
        let harmonic = Double(5) / machine.memoryBandwidthMeasurements.reduce(0) { $0 + 1 / $1 }
        #expect(abs(machine.averageMemoryBandwidth - harmonic) <= 1e-9 * harmonic, "\(machine)")
        #expect(machine.averageMemoryBandwidth >= machine.memoryBandwidthMeasurements.min()! * (1 - 1e-12), "\(machine)")
        #expect(report.runs.map(\.budget) == ["1G", BudgetTests.budget, "8M"])
        let fits = try #require(report.runs[0].statistics, "\(result)")
        #expect(fits.streamed_regions == 0 && fits.decode_tokens_per_second > 0 && fits.weight_bytes > 0)
        let streams = try #require(report.runs[1].statistics, "\(result)")
        #expect(streams.streamed_regions > 0 && streams.peak_resident_bytes <= BudgetTests.budgetBytes)
        #expect(report.runs[2].outcome == "below minimum" && report.runs[2].detail?.contains("MiB") == true)
        let markdown = String(decoding: try FileContents.read(output + "/results.md"), as: UTF8.self)
        #expect(markdown.contains("| \(BudgetTests.budget) |") && markdown.contains("below minimum"))
        #expect(markdown.contains("| its average over all 5 measurements |"), "\(markdown)")
        // Each run's row has both shares: of the peak and of the average.
        let resident = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| 1G |") }, "\(markdown)")
        #expect(resident.split(separator: "|").filter { $0.contains("%") }.count == 2, "\(resident)")
        let chart = String(decoding: try FileContents.read(output + "/chart.svg"), as: UTF8.self)
        #expect(chart.hasPrefix("<svg") && chart.contains("<polyline"))
        #expect(try FileContents.read(output + "/results.json").count > 100)
    }

    /// A stand-in for `llama-bench` (a script printing its JSON) runs alternately with rounds of ours at every budget
    /// that ran, and the report sets the two side by side: at the medians, and the fastest runs against the probe's
    /// highest reading; each budget's row is the median of its runs, set against the all-resident budget's median
    /// wherever that budget stands in the list (here last, after one below the minimum and one that streams).
    @Test func benchWithAPeerReportsBothSidesMediansAndFastestRuns() throws {
        let model = try Fixtures.synthetic()
        let peer = Fixtures.scratch.file("fake-llama-bench.sh"), gguf = Fixtures.scratch.file("peer.gguf")
        try FileContents.write(Array("#!/bin/sh\necho '[{\"n_prompt\": 16, \"n_gen\": 0, \"avg_ts\": 12.5}, {\"n_prompt\": 0, \"n_gen\": 8, \"avg_ts\": 0.5}]'\n".utf8), to: peer)
        #expect(chmod(peer, 0o755) == 0)
        try FileContents.write([UInt8](repeating: 1, count: 1 << 20), to: gguf)
        let output = Fixtures.scratch.file("bench-peer")
        let result = try WStreamExecutable.run("bench", model.path, "--budgets", "8M,\(BudgetTests.budget),1G", "--prompt-tokens", "16", "--generate", "8",
                                               "--peer-llama-bench", peer, "--peer-gguf", gguf, "--peer-rounds", "2", "--output", output)
        #expect(result.succeeded, "\(result)")
        let markdown = String(decoding: try FileContents.read(output + "/results.md"), as: UTF8.self)
        #expect(markdown.contains("(3 of ours, 2 of the peer's, ours first and last)"), "\(markdown)")
        let host = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| host, all resident |") }, "\(markdown)")
        #expect(host.contains("| 12.5 |") && host.contains("| 0.5 "), "\(host)")
        let fastest = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("The fastest runs against the probe's highest reading") },
                                   "\(markdown)")
        #expect(fastest.contains("the peer 0.5 tok/s, 0.0 GB/s"), "\(fastest)")
        #expect(markdown.contains("Each budget that ran did so 3 times"), "\(markdown)")
        let row = { (budget: String) in markdown.split(separator: "\n").first { $0.hasPrefix("| \(budget) |") }.map(String.init) ?? "" }
        #expect(row("8M").contains("below minimum"), "\(markdown)")
        #expect(row("1G").contains("| 1.00× |"), "\(markdown)")
        let streaming = row(BudgetTests.budget).split(separator: "|").map { String($0.filter { !$0.isWhitespace }) }
        let share = try #require(streaming.first { $0.hasSuffix("×") }.flatMap { Double($0.dropLast()) }, "\(streaming)")
        struct Rounds: Decodable {
            struct Run: Decodable {
                struct Statistics: Decodable { let decode_tokens_per_second: Double }
                let budget: String
                let statistics: Statistics?
            }
            struct HostRounds: Decodable { let ours: [[Run]]; let allResidentIndex: Int }
            let hostRounds: HostRounds
        }
        let rounds = try JSONDecoder().decode(Rounds.self, from: Data(try FileContents.read(output + "/results.json"))).hostRounds
        let budget = BudgetTests.budget
        #expect(rounds.ours.map { $0.map(\.budget) } == [["8M"], [budget, budget, budget], ["1G", "1G", "1G"]])
        #expect(rounds.allResidentIndex == 2)
        // The streaming budget's share of all resident is its median decode over the all-resident budget's.
        func median(_ runs: [Rounds.Run]) -> Double {
            let rates = runs.compactMap { $0.statistics?.decode_tokens_per_second }.sorted()
            return rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
        }
        #expect(abs(share - median(rounds.ours[1]) / median(rounds.ours[2])) <= 0.0051, "\(share) \(rounds.ours)")
    }

    @Test func benchKernelsTakesTheLlamaShape() throws {
        let result = try WStreamExecutable.run("bench", "--kernels", "--kernel-shape", "llama-3.2-1b", "--kernel-layers", "1",
                                               "--kernel-inputs", "1")
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("7 matrices (1 Llama-3.2-1B layer)"), "\(result)")
        let wrong = try WStreamExecutable.run("bench", "--kernels", "--kernel-shape", "gpt-2")
        #expect(!wrong.succeeded && wrong.stderr.contains("lfm2-1.2b") && wrong.stderr.contains("llama-3.2-1b"), "\(wrong)")
    }

    @Test func benchKernelsReportsBandwidthAndEveryKernelAtOneAndTwoThreads() throws {
        let result = try WStreamExecutable.run("bench", "--kernels", "--kernel-layers", "1", "--kernel-inputs", "1,4")
        #expect(result.succeeded, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let bandwidth = try #require(lines.first { $0.hasPrefix("memory bandwidth: ") }, "\(result)")
        #expect(bandwidth.contains("1 thread ") && bandwidth.contains("2 threads "), "\(bandwidth)")
        for precision in ["float32", "int8"] {
            for (inputs, threads) in [("1", "1"), ("1", "2"), ("4", "1"), ("4", "2")] {
                let line = try #require(lines.first {
                    let fields = $0.split(separator: " ")
                    return fields.count == 8 && fields[0] == precision && fields[1] == inputs && fields[2] == threads
                }, "no \(precision) \(inputs)-input \(threads)-thread row in \(result)")
                let rate = Double(line.split(separator: " ")[4]) ?? 0
                #expect(rate > 0.1, "no plausible GB/s in \(line)")
            }
        }
    }
}
