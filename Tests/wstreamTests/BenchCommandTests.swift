import Testing
import TestSupport

/// `wstream bench` runs each budget in a fresh child and reports it, including budgets below the minimum.
@Suite(.serialized) struct BenchCommandTests {
    @Test func benchPrintsARowPerBudgetAndReportsOneBelowTheMinimum() throws {
        let model = try Fixtures.synthetic()
        let result = try WStreamExecutable.run(
            "bench", model.path, "--budgets", "1G,\(BudgetTests.budget),8M", "--prompt-tokens", "16", "--generate", "8")
        #expect(result.succeeded, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("budget") && $0.contains("peak RSS") && $0.contains("decode tok/s") }, "\(result)")
        let fits = try #require(lines.first { $0.hasPrefix("1G ") }, "\(result)")
        #expect(fits.contains("MiB") && fits.contains("/0 "), "1G holds the whole model, nothing streamed: \(fits)")
        let streams = try #require(lines.first { $0.hasPrefix("\(BudgetTests.budget) ") }, "\(result)")
        #expect(streams.contains("MiB") && !streams.contains("below minimum") && !streams.contains("/0 "), "\(streams)")
        let below = try #require(lines.first { $0.hasPrefix("8M ") }, "\(result)")
        #expect(below.contains("below minimum (") && below.contains("MiB"), "\(below)")
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
