#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamPack

/// Options the packer refuses and inputs it cannot store: each fails with a message naming the culprit
/// and leaves nothing at the destination.
@Suite struct PackFailureTests {
    let directory = TemporaryDirectory("wstream-pack")

    private var stories: ImportedModel { get throws { try ModelImporter.importModel(at: try SharedModels.storiesHF) } }

    /// The names in the test's folder: a failed pack must leave neither the file nor its temporary.
    private func folderContents() -> [String] {
        guard let folder = opendir(directory.path) else { return ["<unreadable>"] }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    @Test func unsupportedBitsAreRejectedListingTheSupportedValues() throws {
        let error = try #require(throws: PackError.self) {
            try Packer.pack(try stories, to: directory.file("out.wst"), options: packOptions(bits: 5))
        }
        #expect(error == .unsupportedBits(5))
        #expect(error.description == "--bits 5 is not supported; use one of 4, 6, 8, 16, 32")
        #expect(folderContents().isEmpty)
    }

    @Test func unsupportedGroupSizeIsRejectedListingTheSupportedValues() throws {
        let error = try #require(throws: PackError.self) {
            try Packer.pack(try stories, to: directory.file("out.wst"), options: packOptions(bits: 4, groupSize: 48))
        }
        #expect(error == .unsupportedGroupSize(48))
        #expect(error.description == "--group-size 48 is not supported; use one of 32, 64, 128")
        #expect(folderContents().isEmpty)
    }

    @Test func infiniteWeightInAQuantisedMatrixFailsNamingTheTensorAndMatrixRow() throws {
        var model = try stories
        let name = TensorName.block(2, .ffnUp)
        model.tensors = model.tensors.map { $0.name == name ? AlteredTensor($0, row: 150, column: 3, value: .infinity) : $0 }
        let error = try #require(throws: PackError.self) {
            try Packer.pack(model, to: directory.file("out.wst"), options: packOptions(bits: 4))
        }
        guard case .unstorableTensor(_, let tensor, let reason) = error else {
            Issue.record("expected unstorableTensor, got \(error)")
            return
        }
        #expect(tensor == name)
        #expect(reason.contains("row 150, column 3 is inf"))
        #expect(error.description.contains(name))
        #expect(folderContents().isEmpty)
    }

    @Test func nonFiniteWeightsAreRejectedAtEveryPrecision() throws {
        // Float32 and fp16 storage are checked as well: the token table spans several blocks, so the
        // reported row must be counted from the start of the matrix, not of the block.
        for bits in [8, 16, 32] {
            var model = try stories
            model.tensors = model.tensors.map {
                $0.name == TensorName.tokenEmbedding ? AlteredTensor($0, row: 300, column: 1, value: .nan) : $0
            }
            let error = try #require(throws: PackError.self) {
                try Packer.pack(model, to: directory.file("out.wst"), options: packOptions(bits: bits))
            }
            guard case .unstorableTensor(_, TensorName.tokenEmbedding, let reason) = error else {
                Issue.record("\(bits) bits: expected unstorableTensor for the token table, got \(error)")
                continue
            }
            #expect(reason.contains("row 300, column 1"), "\(bits) bits: \(reason)")
        }
        #expect(folderContents().isEmpty)
    }

    @Test func weightBeyondFloat16RangeFailsAtSixteenBits() throws {
        var model = try stories
        let name = TensorName.block(0, .attentionQ)
        model.tensors = model.tensors.map { $0.name == name ? AlteredTensor($0, row: 9, column: 7, value: 1e6) : $0 }
        let error = try #require(throws: PackError.self) {
            try Packer.pack(model, to: directory.file("out.wst"), options: packOptions(bits: 16))
        }
        #expect(error.description.contains(name))
        #expect(error.description.contains("row 9, column 7"))
        #expect(error.description.contains("fp16"))
        #expect(folderContents().isEmpty)
    }

    @Test func missingStrayAndMisshapenTensorsAreNamed() throws {
        var missing = try stories
        missing.tensors.removeAll { $0.name == TensorName.block(3, .attentionK) }
        #expect(throws: PackError.missingTensor(source: missing.source, tensor: TensorName.block(3, .attentionK))) {
            try Packer.pack(missing, to: directory.file("out.wst"), options: packOptions(bits: 4))
        }
        var stray = try stories
        let extra = try #require(stray.tensors.first { $0.name == TensorName.block(0, .ffnNorm) })
        stray.tensors.append(extra.renamed("blk.9.ffn_norm.weight"))
        #expect(throws: PackError.unexpectedTensor(source: stray.source, tensor: "blk.9.ffn_norm.weight")) {
            try Packer.pack(stray, to: directory.file("out.wst"), options: packOptions(bits: 4))
        }
        var reshaped = try stories
        let up = try #require(reshaped.tensors.firstIndex { $0.name == TensorName.block(1, .ffnUp) })
        reshaped.tensors[up] = try #require(reshaped.tensors.first { $0.name == TensorName.block(1, .ffnDown) })
            .renamed(TensorName.block(1, .ffnUp))
        #expect(throws: PackError.shapeMismatch(
            source: reshaped.source, tensor: TensorName.block(1, .ffnUp), expected: [172, 64], found: [64, 172])) {
            try Packer.pack(reshaped, to: directory.file("out.wst"), options: packOptions(bits: 4))
        }
        #expect(folderContents().isEmpty)
    }

    @Test func destinationUnderARegularFileFailsCleanly() throws {
        let blocker = directory.file("not-a-folder")
        try FileContents.write(Array("keep me".utf8), to: blocker)
        let error = try #require(throws: FormatError.self) {
            try Packer.pack(try stories, to: blocker + "/model.wst", options: packOptions(bits: 4))
        }
        #expect(String(describing: error).contains(blocker))
        #expect(try FileContents.read(blocker) == Array("keep me".utf8))
        #expect(folderContents() == ["not-a-folder"])
    }
}

/// A source tensor with one element replaced, to feed the packer a weight it must refuse.
private struct AlteredTensor: TensorSource {
    let base: any TensorSource
    let row: Int
    let column: Int
    let value: Float

    init(_ base: any TensorSource, row: Int, column: Int, value: Float) {
        self.base = base
        self.row = row
        self.column = column
        self.value = value
    }

    var name: String { base.name }
    var shape: [Int] { base.shape }
    var sourceType: String { base.sourceType }

    func readRows(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try base.readRows(rows, into: destination)
        if rows.contains(row) { destination[(row - rows.lowerBound) * shape.last! + column] = value }
    }
}

extension TensorSource {
    fileprivate func renamed(_ name: String) -> any TensorSource { RenamedTensor(self, name: name) }
}

/// A source tensor under another name.
private struct RenamedTensor: TensorSource {
    let base: any TensorSource
    let name: String

    init(_ base: any TensorSource, name: String) {
        self.base = base
        self.name = name
    }

    var shape: [Int] { base.shape }
    var sourceType: String { base.sourceType }

    func readRows(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try base.readRows(rows, into: destination)
    }
}
