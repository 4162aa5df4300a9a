import Testing
import TestSupport
import WStreamQuant
import WStreamRuntime
@testable import WStreamModel

/// Resident block and head units are interleaved for the VNNI kernels (`RowInterleaving`) and streamed ones are not,
/// so a budget that streams some units must give the very logits the whole model gives resident.
@Suite(.serialized) struct InterleavedWeightsTests {
    @Test func streamingSomeUnitsChangesNoLogitBit() throws {
        let directory = TemporaryDirectory()
        let path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        let ids = try ReferenceFile.load("stories260K/reference.json").cases[0].promptIds
        // Each token once as a prompt token (the panel kernel) and once as a generated one (the row kernels).
        func logits(_ model: LanguageModel) throws -> [[UInt32]] {
            let vocabulary = model.config.vocabSize
            return try ids.flatMap { id -> [[UInt32]] in
                let prompt = Array(try model.feed([id])).map(\.bitPattern)
                let generated = try model.stack.forward([id], batch: Batch([model.sequence], counts: [1], generatedRows: 1))
                return [prompt, Array(UnsafeBufferPointer(start: generated, count: vocabulary)).map(\.bitPattern)]
            }
        }
        let resident = try LanguageModel(path: path, options: .init(contextLength: 64, budget: nil, threads: 2))
        let blocks = resident.config.layerCount, heads = resident.stack.headUnits.count
        #expect(heads > 0 && resident.stack.headUnits.allSatisfy { !resident.stack.blockUnits.contains($0) }, "the head has units of its own")
        #expect(resident.stack.interleavedUnits.count == (RowInterleaving.appliesToNativeKernels ? blocks + heads : 0),
                "every resident block and head unit (4- and 6-bit) is interleaved where the native kernels read tiles")

        // The smallest share of memory the model runs in: most units stream.
        var options = LanguageModel.Options(contextLength: 64, budget: nil, threads: 2)
        options.allowance = 1
        let minimum: Int
        do {
            _ = try LanguageModel(path: path, options: options)
            Issue.record("an allowance of 1 byte should be too small")
            return
        } catch RuntimeError.budgetTooSmall(_, let smallest, _) {
            minimum = smallest
        }
        options.allowance = minimum
        let streaming = try LanguageModel(path: path, options: options)
        #expect(streaming.stack.interleavedUnits.count < blocks, "at the minimum, some block units stream")
        #expect(try logits(streaming) == logits(resident), "interleaving changed a logit")
    }
}
