#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// Already-quantized sources read exactly: GGUF K-quants against gguf-py's dequantizer, MLX 4-bit folders against
/// `mx.dequantize` in float32, and both through their affine groups (codes, scales, biases) as well as their values.
@Suite struct QuantizedSourceTests {
    static let kquantTypes = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q3_K_M", "Q2_K", "Q4_0", "IQ4_NL"]
    static let mlxFolders = ["stories260K-mlx4", "tiny-lfm2-mlx4", "tiny-qwen3-mlx4"]

    /// Rows `rows` of `tensor`, and its codes, scales and biases, read through both interfaces.
    private static func read(_ tensor: any TensorSource, rows: Range<Int>) throws -> (values: [Float], groups: [Float]?) {
        let cols = tensor.shape.last!
        var values = [Float](repeating: .nan, count: rows.count * cols)
        try values.withUnsafeMutableBufferPointer { try tensor.readRows(rows, into: $0) }
        guard let source = tensor as? any AffineGroupSource, let scheme = source.affineGroups else { return (values, nil) }
        var codes = [UInt8](repeating: 0xFF, count: rows.count * cols)
        var scales = [Float](repeating: .nan, count: rows.count * cols / scheme.groupSize)
        var biases = scales
        try codes.withUnsafeMutableBufferPointer { codes in
            try scales.withUnsafeMutableBufferPointer { scales in
                try biases.withUnsafeMutableBufferPointer { try source.readAffineRows(rows, codes: codes, scales: scales, biases: $0) }
            }
        }
        #expect(codes.allSatisfy { Int($0) < 1 << scheme.codeBits }, "\(tensor.name): a code beyond \(scheme.codeBits) bits")
        let rebuilt = codes.indices.map { scales[$0 / scheme.groupSize] * Float(codes[$0]) + biases[$0 / scheme.groupSize] }
        return (values, rebuilt)
    }

    /// GGUF `llama` files store Q/K rows permuted per head (see `RoPERowOrder`); rows 0–63 are all in head 0 here.
    private static func storedRow(_ row: Int, of name: String, headDim: Int) -> Int {
        guard name.hasSuffix("attn_q.weight") || name.hasSuffix("attn_k.weight") else { return row }
        let half = headDim / 2
        let within = row % headDim
        return row - within + 2 * (within % half) + within / half
    }

    @Test(arguments: kquantTypes)
    func ggufBlocksDecodeToGGUFPyValues(type: String) throws {
        let reference = try ReferenceTensors.load("tiny-kquant/tiny-kquant-\(type).dequantized.safetensors")
        let model = try ModelImporter.importWeights(at: try SharedModels.path("tiny-kquant/tiny-kquant-\(type).gguf"))
        var checked = 0
        for tensor in model.tensors where tensor.shape.count == 2 {
            let expected = try reference.tensor(tensor.name)
            let (values, groups) = try Self.read(tensor, rows: 0..<64)
            let cols = tensor.shape[1]
            for row in 0..<64 {
                let mine = values[(row * cols)..<((row + 1) * cols)]
                let theirs = expected.row(Self.storedRow(row, of: tensor.name, headDim: model.config.headDim))
                // `==` on floats: equal values, with +0 and −0 counted equal (gguf-py's d·(q − 8) gives −0 for negative d).
                let column = (0..<cols).first { mine[mine.startIndex + $0] != theirs[theirs.startIndex + $0] }
                #expect(column == nil, "\(type) \(tensor.name) row \(row) column \(column ?? 0): \(mine[mine.startIndex + (column ?? 0)]) for \(theirs[theirs.startIndex + (column ?? 0)])")
                if column != nil { return }
            }
            #expect(groups == values, "\(type) \(tensor.name): scale·code + bias differs from the decoded values")
            checked += 1
        }
        #expect(checked == 16)
    }

    @Test func kquantTensorsReportTheirBlockTypes() throws {
        let model = try ModelImporter.importWeights(at: try SharedModels.path("tiny-kquant/tiny-kquant-Q4_K_M.gguf"))
        let types = Dictionary(uniqueKeysWithValues: model.tensors.map { ($0.name, $0.sourceType) })
        #expect(types["output.weight"] == "Q6_K")
        #expect(types["blk.1.ffn_down.weight"] == "Q6_K")
        #expect(types["blk.0.ffn_down.weight"] == "Q4_K")
        #expect(types["token_embd.weight"] == "Q4_K")
        #expect(types["output_norm.weight"] == "F32")
        let groups = model.tensors.compactMap { ($0 as? any AffineGroupSource)?.affineGroups }
        #expect(groups.contains(AffineGroupScheme(codeBits: 4, groupSize: 32, label: "Q4_K", isNative: false)))
        #expect(groups.contains(AffineGroupScheme(codeBits: 6, groupSize: 16, label: "Q6_K", isNative: false)))
    }

    @Test(arguments: mlxFolders)
    func mlxWeightsDecodeToMLXFloat32Values(folder: String) throws {
        let reference = try ReferenceTensors.load("\(folder)/dequantized.safetensors")
        let model = try ModelImporter.importWeights(at: try SharedModels.path(folder))
        let spelling = try HuggingFaceSpelling(architecture: model.config.architecture)
        #expect(reference.tensors.count >= 3)
        for (referenceName, expected) in reference.tensors {
            // `model.embed_tokens.weight[0:1024]` holds the first 1024 rows.
            let sourceName = referenceName.split(separator: "[").first.map(String.init) ?? referenceName
            let name = try #require(spelling.canonicalName(sourceName, config: model.config), "\(sourceName)")
            let tensor = try #require(model.tensors.first { $0.name == name })
            #expect(tensor.shape[1] == expected.shape[1])
            #expect(tensor.sourceType == (folder == "stories260K-mlx4" ? "MLX q4 g32" : "MLX q4 g64"))
            let (values, groups) = try Self.read(tensor, rows: 0..<expected.shape[0])
            #expect(values.map(\.bitPattern) == expected.values.map(\.bitPattern), "\(folder) \(referenceName)")
            #expect(groups?.map(\.bitPattern) == values.map(\.bitPattern), "\(folder) \(referenceName) through its groups")
        }
    }

    @Test func mlxDecidesPerModuleByTheScalesItStores() throws {
        let model = try ModelImporter.importWeights(at: try SharedModels.path("stories260K-mlx4"))
        // config.json says 4 bits in groups of 32 for everything; the five down_proj [64, 172] were left in bfloat16.
        for tensor in model.tensors where tensor.shape.count == 2 {
            let expected = tensor.name.hasSuffix("ffn_down.weight") ? "BF16" : "MLX q4 g32"
            #expect(tensor.sourceType == expected, "\(tensor.name)")
        }
        #expect(model.tensors.first { $0.name == TensorName.block(0, .ffnDown) }?.shape == [64, 172])
    }

    @Test func mlxScalesKeepTheirSigns() throws {
        let model = try ModelImporter.importWeights(at: try SharedModels.path("tiny-lfm2-mlx4"))
        let tensor = try #require(model.tensors.first { $0.name == TensorName.block(0, .convInProjection) } as? any AffineGroupSource)
        var codes = [UInt8](repeating: 0, count: 384 * 128)
        var scales = [Float](repeating: 0, count: 384 * 2)
        var biases = scales
        try codes.withUnsafeMutableBufferPointer { codes in
            try scales.withUnsafeMutableBufferPointer { scales in
                try biases.withUnsafeMutableBufferPointer { try tensor.readAffineRows(0..<384, codes: codes, scales: scales, biases: $0) }
            }
        }
        let negative = scales.filter { $0 < 0 }.count
        // MLX puts the bias at the edge of larger magnitude, so about half of all scales are negative.
        #expect(negative > scales.count / 4 && negative < 3 * scales.count / 4, "\(negative) of \(scales.count) scales negative")
        #expect(Set(codes).count == 16)
    }

    @Test func mlxLFM2ConvTapsInMLXLayoutReadAsHuggingFaceOnes() throws {
        let mlx = try ModelImporter.importWeights(at: try SharedModels.path("tiny-lfm2-mlx4"))
        let conv = try #require(mlx.tensors.first { $0.name == TensorName.block(0, .convWeight) })
        #expect(conv.shape == [128, 3])
        #expect(conv.sourceType == "BF16")
        let original = try ModelImporter.importWeights(at: try SharedModels.tinyLFM2HF)
        let float32 = try #require(original.tensors.first { $0.name == conv.name })
        let (mine, _) = try Self.read(conv, rows: 0..<128)
        let (theirs, _) = try Self.read(float32, rows: 0..<128)
        // bfloat16 keeps 8 significant bits: within 2⁻⁸ relative of the float32 original.
        for (a, b) in zip(mine, theirs) { #expect(abs(a - b) <= abs(b) * 0x1p-8, "\(a) for \(b)") }
    }

    @Test func huggingFaceHubSnapshotWithSymlinkedFilesImports() throws {
        let directory = TemporaryDirectory("wstream-hub")
        let source = try SharedModels.path("stories260K-mlx4")
        // The hub cache's layout: snapshots/<revision>/<file> → ../../blobs/<hash>.
        let blobs = directory.file("blobs")
        let snapshot = directory.file("snapshots/0123abcd")
        #expect(mkdir(blobs, 0o755) == 0 && mkdir(directory.file("snapshots"), 0o755) == 0 && mkdir(snapshot, 0o755) == 0)
        for (index, name) in ["config.json", "model.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"].enumerated() {
            try FileContents.write(try FileContents.read(source + "/" + name), to: blobs + "/blob\(index)")
            #expect(symlink("../../blobs/blob\(index)", snapshot + "/" + name) == 0)
        }
        let linked = try ModelImporter.importModel(at: snapshot)
        let direct = try ModelImporter.importModel(at: source)
        #expect(linked.config == direct.config)
        #expect(linked.tokenizer == direct.tokenizer)
        for (a, b) in zip(linked.tensors, direct.tensors) {
            #expect(a.name == b.name && a.sourceType == b.sourceType)
            let rows = a.shape.count == 2 ? a.shape[0] : 1
            #expect(try Self.read(a, rows: 0..<rows).values.map(\.bitPattern) == Self.read(b, rows: 0..<rows).values.map(\.bitPattern))
        }
    }
}
