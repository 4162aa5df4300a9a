#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamPack
import WStreamQuant

/// Packs of already-quantized sources: where a path is lossless the packed file decodes to the source's own
/// dequantized values exactly; elsewhere it stays within a bound derived from how the path stores each group.
@Suite struct CarriedPackTests {
    let directory = TemporaryDirectory("wstream-carried")

    private func packed(_ source: String, bits: Int = 4, requantize: Bool = false) throws -> (PackedFile, PackSummary, ImportedModel) {
        var options = PackOptions()
        options.bits = bits
        options.requantize = requantize
        let model = try ModelImporter.importModel(at: source)
        let path = directory.file("packed-\(bits)-\(requantize).wst")
        let summary = try Packer.pack(model, to: path, options: options)
        return (try PackedFile(path), summary, model)
    }

    private static func kquant(_ type: String) throws -> String { try SharedModels.path("tiny-kquant/tiny-kquant-\(type).gguf") }

    /// GGUF `llama` Q/K rows are stored permuted per head (reference rows are stored rows); rows 0–63 lie in head 0.
    private static func storedRow(_ row: Int, of name: String, headDim: Int = 64) -> Int {
        guard name.hasSuffix("attn_q.weight") || name.hasSuffix("attn_k.weight") else { return row }
        let half = headDim / 2
        return 2 * (row % half) + row / half
    }

    /// The codes, scales and biases of rows `rows` as the source stores them.
    private static func groups(of source: any TensorSource, rows: Range<Int>) throws -> (codes: [UInt8], scales: [Float], biases: [Float], groupSize: Int) {
        let tensor = try #require(source as? any AffineGroupSource)
        let scheme = try #require(tensor.affineGroups)
        let cols = source.shape[1]
        var codes = [UInt8](repeating: 0, count: rows.count * cols)
        var scales = [Float](repeating: 0, count: rows.count * cols / scheme.groupSize)
        var biases = scales
        try codes.withUnsafeMutableBufferPointer { codes in
            try scales.withUnsafeMutableBufferPointer { scales in
                try biases.withUnsafeMutableBufferPointer { try tensor.readAffineRows(rows, codes: codes, scales: scales, biases: $0) }
            }
        }
        return (codes, scales, biases, scheme.groupSize)
    }

    @Test(arguments: ["stories260K-mlx4", "tiny-lfm2-mlx4", "tiny-qwen3-mlx4"])
    func mlxGroupsCarryOverBitForBit(folder: String) throws {
        let (file, summary, model) = try packed(try SharedModels.path(folder))
        let reference = try ReferenceTensors.load("\(folder)/dequantized.safetensors")
        let spelling = try HuggingFaceSpelling(architecture: model.config.architecture)
        let group = folder == "stories260K-mlx4" ? 32 : 64
        for (referenceName, expected) in reference.tensors {
            let name = try #require(spelling.canonicalName(referenceName.split(separator: "[").first.map(String.init) ?? referenceName, config: model.config))
            let entry = try file.tensor(name)
            // The tied embedding is the head: its 4-bit groups stay 4-bit although the head's target is 8.
            #expect(entry.storage == .q4 && entry.groupSize == group, "\(name)")
            #expect(entry.origin == "carried from MLX q4 g\(group)")
            let tensor = try file.quantised(entry)
            for row in 0..<expected.shape[0] {
                #expect(tensor.row(row).map(\.bitPattern) == expected.row(row).map(\.bitPattern), "\(folder) \(name) row \(row)")
            }
        }
        #expect(summary.carriedGroups["MLX q4 g\(group)"]?.note == nil, "every bfloat16 scale and bias is exact in fp16 here")
        try file.reader.verify()
    }

    @Test(arguments: [("Q4_0", 4, "Q4_0"), ("IQ4_NL", 8, "IQ4_NL")])
    func ggufBlocksThatAreAffineGroupsCarryOverExactly(type: String, bits: Int, blockType: String) throws {
        let (file, summary, _) = try packed(try Self.kquant(type), bits: bits)
        let reference = try ReferenceTensors.load("tiny-kquant/tiny-kquant-\(type).dequantized.safetensors")
        var carried = 0
        for entry in file.tensors where entry.shape.count == 2 && entry.name != TensorName.output {
            // Q4_0: scale d, bias −8d; IQ4_NL: 8-bit codes k + 128, scale d, bias −128d (exact in float32 and fp16).
            #expect(entry.origin == "carried from \(blockType)", "\(entry.name)")
            #expect(entry.storage == (bits == 4 ? .q4 : .q8) && entry.groupSize == 32)
            let tensor = try file.quantised(entry)
            let expected = try reference.tensor(entry.name)
            for row in 0..<64 {
                // `==`: equal values (+0 and −0 count equal: gguf-py's d·(q − 8) is −0 for negative d, ours +0).
                #expect(tensor.row(row) == Array(expected.row(Self.storedRow(row, of: entry.name))), "\(entry.name) row \(row)")
            }
            carried += 1
        }
        #expect(carried == 15)
        // llama-quantize keeps the output in Q6_K: 6-bit codes in sub-blocks of 16 fit no .wst group.
        #expect(try file.tensor(TensorName.output).origin == "re-quantized from Q6_K")
        #expect(summary.originLine == "15 carried from \(blockType), 1 re-quantized from Q6_K, 5 converted from F32")
    }

    @Test func q8_0AndQ4_1CarryOverExactly() throws {
        var generator = SplitMix64(seed: 5)
        var q8: [UInt8] = []
        var q41: [UInt8] = []
        for _ in 0..<32 {
            // fp16 scales and minima over several binades, signs mixed, codes over their whole range.
            q8.append(Float16(Float(generator.next() % 2000) / 1000 - 1).bitPattern)
            for _ in 0..<32 { q8.append(UInt8(truncatingIfNeeded: generator.next())) }
            q41.append(Float16(Float(generator.next() % 1000 + 1) / 4096).bitPattern)
            q41.append(Float16(-Float(generator.next() % 1000) / 512).bitPattern)
            for _ in 0..<16 { q41.append(UInt8(truncatingIfNeeded: generator.next())) }
        }
        let path = directory.file("q8-q41.gguf")
        try FileContents.write(TinyLlamaGGUF.build(types: ["blk.0.ffn_gate.weight": (8, q8), "blk.0.ffn_up.weight": (3, q41)]), to: path)
        let (file, _, model) = try packed(path, bits: 8)
        for (name, origin) in [("blk.0.ffn_gate.weight", "carried from Q8_0"), ("blk.0.ffn_up.weight", "carried from Q4_1")] {
            let entry = try file.tensor(name)
            #expect(entry.origin == origin)
            #expect(entry.storage == (name.contains("gate") ? .q8 : .q4), "Q4_1 keeps its 4-bit codes where the target is 8")
            let source = try #require(model.tensors.first { $0.name == name })
            let values = try sourceValues(source)
            let tensor = try file.quantised(entry)
            for row in 0..<32 { #expect(tensor.row(row) == Array(values[(row * 32)..<(row * 32 + 32)]), "\(name) row \(row)") }
        }
    }

    /// Q4_K sub-blocks are affine groups of 32 with `scale = d·sc`, `bias = −dmin·m`: exact in float32, rounded to
    /// fp16 when stored. Rounding to nearest moves each by at most 2⁻¹¹ of itself (2⁻²⁵ absolute among fp16's
    /// subnormals), so element `i` of a group moves by at most `eᵢ = qᵢ·(|s|·2⁻¹¹ + 2⁻²⁵) + |b|·2⁻¹¹ + 2⁻²⁵`, plus
    /// float32 rounding of the sum (`2⁻²³·|v|`). A group is re-quantized instead only when that is closer, so each
    /// group's squared error is at most `Σ eᵢ²`. Q5_K into 8-bit groups (with --bits 8) the same way.
    @Test(arguments: [("Q4_K_M", 4, "Q4_K"), ("Q5_K_M", 8, "Q5_K"), ("Q3_K_M", 4, "Q4_K")])
    func kQuantSubBlocksCarryWithinFP16RoundingOfTheirScales(type: String, bits: Int, blockType: String) throws {
        let (file, summary, model) = try packed(try Self.kquant(type), bits: bits)
        let reference = try ReferenceTensors.load("tiny-kquant/tiny-kquant-\(type).dequantized.safetensors")
        var checked = 0
        for source in model.tensors where source.sourceType == blockType {
            let entry = try file.tensor(source.name)
            #expect(entry.origin?.hasPrefix("carried from \(blockType)") == true, "\(entry.name): \(entry.origin ?? "-")")
            #expect(entry.storage == (bits == 4 ? .q4 : .q8) && entry.groupSize == 32)
            let tensor = try file.quantised(entry)
            let (codes, scales, biases, groupSize) = try Self.groups(of: source, rows: 0..<64)
            let cols = entry.cols
            let expected = try reference.tensor(entry.name)
            for row in 0..<64 {
                let mine = tensor.row(row)
                let theirs = expected.row(Self.storedRow(row, of: entry.name))
                for group in 0..<(cols / groupSize) {
                    let g = row * cols / groupSize + group
                    var error: Float = 0
                    var bound: Float = 0
                    for column in (group * groupSize)..<((group + 1) * groupSize) {
                        let v = theirs[theirs.startIndex + column]
                        let q = Float(codes[row * cols + column])
                        let e = q * (abs(scales[g]) * 0x1p-11 + 0x1p-25) + abs(biases[g]) * 0x1p-11 + 0x1p-25 + abs(v) * 0x1p-23
                        error += (mine[column] - v) * (mine[column] - v)
                        bound += e * e
                    }
                    #expect(error <= bound, "\(entry.name) row \(row) group \(group): squared error \(error), bound \(bound)")
                }
            }
            checked += 1
        }
        #expect(checked >= 4)
        #expect(summary.carriedGroups[blockType]?.rounded ?? 0 > 0, "most products d·sc need more than fp16's 11 bits")
    }

    /// Re-quantized groups come from the least-squares quantizer, whose squared error per group never exceeds
    /// min-max's, and min-max keeps every element within half its scale: `s = ⌈(max − ⌊min⌋₁₆) / (2^bits − 1)⌉₁₆`.
    /// So each group's RMS error against the source's dequantized values is at most `s / 2` (plus float32 rounding).
    @Test(arguments: [("Q6_K", 4), ("Q2_K", 4), ("Q5_K_M", 4), ("Q6_K", 8)])
    func requantizedTensorsStayWithinHalfAMinMaxScale(type: String, bits: Int) throws {
        let (file, _, model) = try packed(try Self.kquant(type), bits: bits)
        let reference = try ReferenceTensors.load("tiny-kquant/tiny-kquant-\(type).dequantized.safetensors")
        var checked = 0
        for source in model.tensors where source.shape.count == 2 {
            let entry = try file.tensor(source.name)
            guard entry.origin?.hasPrefix("re-quantized") == true else { continue }
            let effectiveBits = entry.storage.codeBits!
            let tensor = try file.quantised(entry)
            let expected = try reference.tensor(entry.name)
            for row in 0..<64 {
                let mine = tensor.row(row)
                let theirs = Array(expected.row(Self.storedRow(row, of: entry.name)))
                for start in stride(from: 0, to: entry.cols, by: entry.groupSize) {
                    let values = theirs[start..<(start + entry.groupSize)]
                    var low = Float16(values.min()!)
                    if Float(low) > values.min()! { low = low.nextDown }
                    var scale = Float16((values.max()! - Float(low)) / Float((1 << effectiveBits) - 1))
                    if Float(scale) < (values.max()! - Float(low)) / Float((1 << effectiveBits) - 1) { scale = scale.nextUp }
                    let squared = (start..<(start + entry.groupSize)).reduce(Float(0)) { $0 + (mine[$1] - theirs[$1]) * (mine[$1] - theirs[$1]) }
                    let rms = (squared / Float(entry.groupSize)).squareRoot()
                    let slack = (values.map(abs).max()! + Float(scale)) * 0x1p-20
                    #expect(rms <= Float(scale) / 2 + slack, "\(type) \(entry.name) row \(row) columns \(start)…: RMS \(rms), min-max scale \(scale)")
                }
            }
            checked += 1
        }
        #expect(checked >= 1)
    }

    @Test func requantizeCarriesNothing() throws {
        let (file, summary, _) = try packed(try Self.kquant("Q4_0"), requantize: true)
        #expect(summary.originLine == "15 re-quantized from Q4_0, 1 re-quantized from Q6_K, 5 converted from F32")
        #expect(try file.tensor(TensorName.tokenEmbedding).origin == "re-quantized from Q4_0")
    }

    @Test func floatSourcesRecordThatTheyWereQuantized() throws {
        let (file, summary, _) = try packed(try SharedModels.storiesHF)
        #expect(try file.tensor(TensorName.block(0, .attentionQ)).origin == "quantized from F32")
        #expect(try file.tensor(TensorName.outputNorm).origin == "converted from F32")
        #expect(summary.carriedGroups.isEmpty)
    }

    /// A copy of stories260K-mlx4 called `name`, with `edit` applied to its tensors and `config` to its config.json.
    private func mlxFolder(
        _ name: String, config: (String) -> String = { $0 }, _ edit: (inout SafetensorsEdit) -> Void
    ) throws -> String {
        let source = try SharedModels.path("stories260K-mlx4")
        let folder = directory.file(name)
        #expect(mkdir(folder, 0o755) == 0)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileContents.write(try FileContents.read(source + "/" + file), to: folder + "/" + file)
        }
        let json = String(decoding: try FileContents.read(source + "/config.json"), as: UTF8.self)
        try FileContents.write(Array(config(json).utf8), to: folder + "/config.json")
        var weights = try SafetensorsEdit(path: source + "/model.safetensors")
        edit(&weights)
        try weights.write(to: folder + "/model.safetensors")
        return folder
    }

    /// stories260K-mlx4 with `model.layers.0.self_attn.q_proj.scales` row 0, group 0 set to `scale` (bfloat16).
    private func mlxFolder(withFirstQueryScale scale: Float) throws -> String {
        try mlxFolder("mlx-\(scale)") { weights in
            let bits = UInt16(scale.bitPattern >> 16)
            weights.tensors["model.layers.0.self_attn.q_proj.scales"]!.bytes[0...1] = [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        }
    }

    /// stories260K-mlx4 with layer 0's q_proj stored as 8-bit MLX codes (the same values: its 4-bit codes widened), as
    /// `mlx_lm.convert --quant-predicate` writes mixed widths: a per-module entry with a null group size.
    private func mlxFolderWithAn8BitModule() throws -> String {
        let module = "model.layers.0.self_attn.q_proj"
        return try mlxFolder("mlx-mixed", config: {
            $0.replacing("\"mode\": \"affine\"\n    },", with: "\"mode\": \"affine\", \"\(module)\": {\"group_size\": null, \"bits\": 8}\n    },")
        }) { weights in
            let packed = weights.tensors["\(module).weight"]!
            // 4 bits: word w of a row holds columns 8w…8w+7, lowest nibble first; 8 bits: columns 4w…4w+3, lowest byte first.
            var codes: [UInt8] = []
            for byte in packed.bytes {
                codes.append(byte & 0x0F)
                codes.append(byte >> 4)
            }
            weights.tensors["\(module).weight"]!.shape = [64, 16]
            weights.tensors["\(module).weight"]!.bytes = codes
        }
    }

    @Test func mlxModulesKeepTheirOwnWidthUnlessBitsAreAskedFor() throws {
        let folder = try mlxFolderWithAn8BitModule()
        let reference = try ReferenceTensors.load("stories260K-mlx4/dequantized.safetensors").tensor("model.layers.0.self_attn.q_proj.weight")
        let (file, summary, _) = try packed(folder)
        let entry = try file.tensor(TensorName.block(0, .attentionQ))
        #expect(entry.origin == "carried from MLX q8 g32" && entry.storage == .q8 && entry.groupSize == 32)
        let tensor = try file.quantised(entry)
        for row in 0..<64 { #expect(tensor.row(row).map(\.bitPattern) == reference.row(row).map(\.bitPattern), "row \(row)") }
        #expect(summary.origins[TensorOrigin(path: .carried, source: "MLX q4 g32")] == 30)

        // `--bits 4` given explicitly (keepNativeGroups off): every MLX group is re-quantized to it.
        var options = PackOptions()
        options.keepNativeGroups = false
        let path = directory.file("mixed-requantized.wst")
        let requantized = try Packer.pack(try ModelImporter.importModel(at: folder), to: path, options: options)
        #expect(requantized.originLine == "30 re-quantized from MLX q4 g32, 1 re-quantized from MLX q8 g32, 5 quantized from BF16, 11 converted from BF16")
        #expect(try PackedFile(path).tensor(TensorName.block(0, .attentionQ)).storage == .q4r, "re-quantized here, so row-scaled")
    }

    @Test func mlxScaleThatFP16CannotHoldIsNeverRoundedSilently() throws {
        // 2⁻²⁰·1.0078125 has bits down to 2⁻²⁷; fp16's subnormals stop at 2⁻²⁴.
        let scale = Float(bitPattern: 0x3580_0000 | 0x0001_0000)
        let (file, summary, model) = try packed(try mlxFolder(withFirstQueryScale: scale))
        let entry = try file.tensor(TensorName.block(0, .attentionQ))
        let origin = try #require(entry.origin)
        #expect(origin.hasPrefix("carried from MLX q4 g32: 1 of 128 groups"), "\(origin)")
        #expect(summary.originLine.contains("1 of"), "\(summary.originLine)")
        // That group is as close as the fp16-rounded scale gets it, or closer; every other group is exact.
        let source = try #require(model.tensors.first { $0.name == entry.name })
        let values = try sourceValues(source, rows: 0..<1)
        let (codes, _, biases, _) = try Self.groups(of: source, rows: 0..<1)
        let row = try file.quantised(entry).row(0)
        let rounded = Float(Float16(scale))
        let roundedError = (0..<32).reduce(Float(0)) { sum, c in
            let d = rounded * Float(codes[c]) + biases[0] - values[c]
            return sum + d * d
        }
        let error = (0..<32).reduce(Float(0)) { $0 + (row[$1] - values[$1]) * (row[$1] - values[$1]) }
        #expect(error <= roundedError)
        #expect(Array(row[32...]).map(\.bitPattern) == Array(values[32...]).map(\.bitPattern))
    }

    @Test func mlxScaleBeyondFP16FailsNamingTheTensor() throws {
        let folder = try mlxFolder(withFirstQueryScale: 1e6)
        let error = try #require(throws: PackError.self) {
            try Packer.pack(try ModelImporter.importModel(at: folder), to: directory.file("out.wst"), options: PackOptions())
        }
        #expect(error.description.contains(TensorName.block(0, .attentionQ)) && error.description.contains("fp16"), "\(error)")
        #expect(access(directory.file("out.wst"), F_OK) != 0)
    }
}
