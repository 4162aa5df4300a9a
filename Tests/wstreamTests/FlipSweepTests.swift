import Testing
import TestSupport
import WStreamFormat

/// `wstream flip-sweep`: a short corruption sweep of the real stories260K pack, and the sweep's own promise that a
/// crash or a hang cannot hide.
@Suite struct FlipSweepTests {
    /// One line of a sweep's report.
    private struct Flip {
        let index: Int
        let byte: Int
        let area: String
        let outcome: String
        let detail: String
    }

    @Test func everyFlipInAStories260KPackIsDetectedNamingItsPartOrIsHarmlessPadding() throws {
        let model = try Fixtures.storiesHF()
        let directory = TemporaryDirectory("wstream-e2e-sweep")
        let report = directory.file("flips.tsv")
        let result = try WStreamExecutable.run("flip-sweep", model.path, "--flips", "200", "--seed", "7", "--every-header-bit", "--report", report)
        #expect(result.succeeded, "the sweep found a crash, a hang or damage that went unnoticed: \(result)")
        #expect(result.stdout.contains("total"), "\(result)")

        let flips = try readReport(report)
        #expect(flips.map(\.index) == Array(0..<712), "the header's 512 bits, then 200 random ones")
        #expect(flips.prefix(512).map(\.byte) == (0..<512).map { $0 / 8 })
        let reader = try ContainerReader(path: model.path)
        for flip in flips {
            let expected = area(of: flip.byte, in: reader)
            #expect(flip.area == expected, "flip \(flip.index) at byte \(flip.byte)")
            switch flip.outcome {
            case "detected":
                if expected.hasPrefix("frame") {
                    let tensor = String(expected.split(separator: " ").last!)
                    #expect(flip.detail.contains("tensor \(tensor) is damaged"), "flip \(flip.index): \(flip.detail)")
                } else {
                    #expect(expected == "header" || expected == "metadata", "flip \(flip.index) in \(expected) was reported: \(flip.detail)")
                }
            case "harmless":
                // Every frame of stories260K is read by a run (its embeddings are the tied head), so only padding is harmless.
                #expect(expected.hasPrefix("padding"), "flip \(flip.index) in \(expected) went unnoticed")
            default:
                Issue.record("flip \(flip.index) in \(expected): \(flip.outcome) \(flip.detail)")
            }
        }
        #expect(flips.prefix(512).allSatisfy { $0.outcome == "detected" && $0.area == "header" })
        #expect(flips.contains { $0.outcome == "detected" && $0.area.hasPrefix("frame") })
        #expect(flips.contains { $0.outcome == "detected" && $0.area == "metadata" })
        #expect(flips.contains { $0.outcome == "harmless" })
    }

    @Test(arguments: ["crash", "hang"])
    func aWorkerThatDiesOrHangsIsRecordedAtItsFlipAndTheSweepGoesOn(failure: String) throws {
        let model = try Fixtures.storiesHF()
        let directory = TemporaryDirectory("wstream-e2e-sweep")
        let report = directory.file("flips.tsv")
        let result = try WStreamExecutable.run(
            "flip-sweep", model.path, "--flips", "30", "--jobs", "2", "--rehearse", "20:\(failure)", "--stall-seconds", "5", "--report", report)
        #expect(result.exitStatus == 1, "a finding must fail the sweep: \(result)")
        let flips = try readReport(report)
        #expect(flips.map(\.index) == Array(0..<30), "every flip, the one after the failure included, has an outcome")
        let outcome = failure == "crash" ? "crashed" : "hung"
        #expect(flips.filter { $0.outcome == outcome }.map(\.index) == [20], "\(result)")
        #expect(flips.allSatisfy { $0.index == 20 || $0.outcome == "detected" || $0.outcome == "harmless" })
        #expect(result.stdout.contains("FINDING flip 20"), "\(result)")
        if failure == "crash" { #expect(flips[20].detail.contains("rehearsed crash at flip 20"), "\(flips[20].detail)") }
    }

    private func readReport(_ path: String) throws -> [Flip] {
        let lines = String(decoding: try FileContents.read(path), as: UTF8.self).split(separator: "\n").dropFirst()
        return try lines.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 6, "report line '\(line)'")
            return Flip(index: try #require(Int(fields[0])), byte: try #require(Int(fields[1])), area: fields[3], outcome: fields[4], detail: fields[5])
        }
    }

    /// The report's name for the area of byte `offset`, worked out here from the metadata (independently of the sweep).
    private func area(of offset: Int, in reader: ContainerReader) -> String {
        if offset < ContainerHeader.size { return "header" }
        if offset >= Int(reader.header.metadataOffset) { return "metadata" }
        for tensor in reader.metadata.tensors {
            for (index, frame) in tensor.frames.enumerated() where (Int(frame.offset)..<Int(frame.offset + frame.storedLength)).contains(offset) {
                return "frame \(index) of \(tensor.name)"
            }
        }
        let regions = reader.metadata.regions
        if offset < Int(regions[0].offset) { return "padding after the header" }
        let inside = regions.contains { (Int($0.offset)..<Int($0.offset + $0.length)).contains(offset) }
        return inside ? "padding between tensors" : "padding between regions"
    }
}
