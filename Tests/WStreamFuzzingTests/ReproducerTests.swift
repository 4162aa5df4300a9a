import Testing
import TestSupport
import WStreamFormat
import WStreamFuzzing
import WStreamImport
import WStreamModel

/// The inputs the fuzzers found a trap, a leak or a sanitizer report with, run through the same targets: each now
/// ends with a clean error that names the file and the problem.
@Suite struct ReproducerTests {
    @Test func aTensorWithMoreRowsPerBlockThanRowsIsRejectedAtOpen() throws {
        let target = try ContainerTarget(sharedModels: try SharedModels.path(""))
        let error = try #require(throws: FormatError.self) {
            try target.run(FuzzInputs.reproducer(ContainerTarget.name, "crash-rows-per-block-beyond-rows"))
        }
        #expect(error.description.contains("blk.0.attn_v.weight is invalid: rowsPerBlock 6413125869375586311 is not between 1 and"))
    }

    @Test func anEmptyTokenizerJSONIsRejectedNamingIt() throws {
        let error = try #require(throws: HFTokenizerFile.Error.self) {
            try TokenizerTarget().run(FuzzInputs.reproducer(TokenizerTarget.name, "leak-empty-tokenizer-json"))
        }
        #expect(error.file.hasSuffix("/tokenizer.json"))
    }

    @Test func aHeadCountWhoseQueryWidthOverflowsIsRefusedAtOpen() throws {
        let target = try ContainerTarget(sharedModels: try SharedModels.path(""))
        let error = try #require(throws: ModelError.self) {
            try target.run(FuzzInputs.reproducer(ContainerTarget.name, "crash-query-width-overflows"))
        }
        #expect(error.description.contains("invalid model configuration: heads "), "\(error)")
        #expect(error.description.contains(" is above 16777216"), "\(error)")
    }

    @Test func aHeadWidthThatWouldSizeAHugeRoPETableIsRefusedBeforeAnyIsMade() throws {
        let target = try ContainerTarget(sharedModels: try SharedModels.path(""))
        let error = try #require(throws: ModelError.self) {
            try target.run(FuzzInputs.reproducer(ContainerTarget.name, "crash-head-width-sizes-rope-table"))
        }
        #expect(error.description.contains("invalid model configuration: head width "), "\(error)")
    }

    @Test func weightsThatGiveNaNLogitsStopGenerationWithAnError() throws {
        let target = try ContainerTarget(sharedModels: try SharedModels.path(""))
        let error = try #require(throws: ModelError.self) {
            try target.run(FuzzInputs.reproducer(ContainerTarget.name, "crash-sampling-nan-logits"))
        }
        guard case .nonFiniteLogits(let file, _) = error else { throw error }
        #expect(file == "fuzz-input.wst")
    }

    @Test func aTokenIdFarPastTheVocabularyIsRefusedNamingTheToken() throws {
        let error = try #require(throws: HFTokenizerFile.Error.self) {
            try TokenizerTarget().run(FuzzInputs.reproducer(TokenizerTarget.name, "crash-token-id-beyond-vocabulary"))
        }
        #expect(error.file.hasSuffix("/tokenizer.json"))
        #expect(error.problem.contains("; the ids of 105 tokens lie in 0..<1234"), "\(error)")
    }

    /// Every input committed under `Tests/Fuzz/` (reproducers and the minimised corpora) returns or throws; a trap
    /// would end the test process.
    @Test(arguments: FuzzInputs.targetNames) func everyCommittedInputEndsWithoutATrap(_ name: String) throws {
        let target = try FuzzInputs.target(name)
        let files = try FuzzInputs.files(name, "crashes") + FuzzInputs.files(name, "corpus")
        for file in files {
            _ = try? target.run(Array(FileContents.read(file)))
        }
    }
}
