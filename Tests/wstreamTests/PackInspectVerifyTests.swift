import Testing
import TestSupport

/// `pack`, `inspect` and `verify` on the real stories260K files, through the release binary.
@Suite struct PackInspectVerifyTests {
    @Test func packingTheHuggingFaceDirectoryWritesTheFileAndSummarisesIt() throws {
        let model = try Fixtures.storiesHF()
        #expect(model.pack.succeeded, "\(model.pack)")
        #expect((FileOperations.size(model.path) ?? 0) > 0)
        #expect(model.pack.stdout.contains("wrote \(model.path): llama, 5 blocks"), "\(model.pack)")
    }

    @Test func packingTheGGUFFileWritesTheFileAndSummarisesIt() throws {
        let model = try Fixtures.storiesGGUF()
        #expect(model.pack.succeeded, "\(model.pack)")
        #expect((FileOperations.size(model.path) ?? 0) > 0)
        #expect(model.pack.stdout.contains("wrote \(model.path): llama, 5 blocks"), "\(model.pack)")
    }

    @Test func inspectPrintsTheArchitectureEveryRegionAndTheTotals() throws {
        let model = try Fixtures.storiesHF()
        let result = try WStreamExecutable.run("inspect", model.path)
        #expect(result.succeeded, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("architecture") && $0.contains("llama") }, "\(result)")
        #expect(lines.contains { $0.contains("hidden 64, blocks 5, heads 8 (kv 4") }, "\(result)")
        #expect(lines.contains { $0.contains("quantization") && $0.contains("4 bits, group 32") }, "\(result)")
        for region in (0..<5).map({ "layer.\($0)" }) + ["head"] {
            #expect(lines.contains { $0.hasPrefix(region + " ") }, "no row for region \(region): \(result)")
        }
        let total = try #require(lines.last { $0.hasPrefix("total") }, "\(result)")
        #expect(total.contains("MB") && total.contains("×"), "\(total)")
    }

    @Test func inspectWithTensorsListsEachTensor() throws {
        let model = try Fixtures.storiesGGUF()
        let result = try WStreamExecutable.run("inspect", model.path, "--tensors")
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("blk.0.attn_q.weight"), "\(result)")
        #expect(result.stdout.contains("q4"), "\(result)")
    }

    @Test(arguments: ["hf", "gguf"])
    func verifyOfAnIntactFileExitsZeroAndSaysOK(source: String) throws {
        let model = try source == "hf" ? Fixtures.storiesHF() : Fixtures.storiesGGUF()
        let result = try WStreamExecutable.run("verify", model.path)
        #expect(result.termination == .exited(0), "\(result)")
        #expect(result.stdout.contains("\(model.path): OK"), "\(result)")
    }
}
