import Testing
import TestSupport
import WStreamSynth

/// A pack is reproducible: the same input and options give the same bytes, however many threads convert it.
@Suite struct DeterminismTests {
    let directory = TemporaryDirectory("wstream-pack")

    @Test(arguments: [4, 16])
    func packingTwiceGivesByteIdenticalFilesWhateverTheThreadCount(bits: Int) throws {
        let model = directory.file("llama-tiny")
        try SyntheticModel.write(shape: try SyntheticShape.named("llama-tiny"), to: model, seed: 5, shards: 2)
        try pack(model, to: directory.file("first.wst"), bits: bits, threads: 2)
        try pack(model, to: directory.file("second.wst"), bits: bits, threads: 2)
        try pack(model, to: directory.file("one-thread.wst"), bits: bits, threads: 1)
        try pack(model, to: directory.file("three-threads.wst"), bits: bits, threads: 3)
        let first = try FileContents.read(directory.file("first.wst"))
        #expect(first.count > 1 << 20)
        #expect(try FileContents.read(directory.file("second.wst")) == first)
        #expect(try FileContents.read(directory.file("one-thread.wst")) == first)
        #expect(try FileContents.read(directory.file("three-threads.wst")) == first)
    }

    @Test func ggufPackIsReproducible() throws {
        let source = try SharedModels.tinyLFM2GGUF
        try pack(source, to: directory.file("first.wst"), bits: 4)
        try pack(source, to: directory.file("second.wst"), bits: 4, threads: 1)
        #expect(try FileContents.read(directory.file("first.wst")) == FileContents.read(directory.file("second.wst")))
    }
}
