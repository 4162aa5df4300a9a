import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamQuant
import WStreamSynth

/// Layout and accuracy of 4-, 6- and 8-bit packs of synthetic Hugging Face models (sharded bfloat16 safetensors).
@Suite struct QuantisedPackTests {
    let directory = TemporaryDirectory("wstream-pack")

    /// Writes the synthetic model `shape` in two shards and packs it; returns the file and the source tensors.
    private func packed(_ shape: String, bits: Int, groupSize: Int, method: QuantizationMethod = .leastSquares,
                        headBits: Int? = nil, parameters: GroupParameters = .rowScaled) throws -> (PackedFile, [any TensorSource]) {
        let model = directory.file(shape)
        try SyntheticModel.write(shape: try SyntheticShape.named(shape), to: model, seed: 11, shards: 2)
        let output = directory.file("\(shape)-q\(bits)-g\(groupSize)-\(parameters).wst")
        try pack(model, to: output, bits: bits, groupSize: groupSize, method: method, headBits: headBits, parameters: parameters)
        return (try PackedFile(output), try ModelImporter.importWeights(at: model).tensors)
    }

    @Test(arguments: zip([4, 8], [32, 64]))
    func untiedLlamaGetsAlignedEmbedLayerAndHeadRegions(bits: Int, groupSize: Int) throws {
        let (file, sources) = try packed("llama-tiny", bits: bits, groupSize: groupSize)
        #expect(file.regionNames == ["embed", "layer.0", "layer.1", "layer.2", "layer.3", "head"])
        #expect(file.reader.alignment == 16 * 1024)
        for region in file.reader.metadata.regions {
            #expect(region.offset % (16 * 1024) == 0, "\(region.name) starts at \(region.offset)")
        }
        #expect(file.reader.metadata.quantization == QuantizationInfo(bits: bits, groupSize: groupSize))
        #expect(file.tensors.map(\.name).sorted() == sources.map(\.name).sorted())

        // Quantised here, so row-scaled by default (PackOptions.groupParameters).
        let quantised: StorageType = bits == 4 ? .q4r : .q8r
        for tensor in file.tensors {
            let region = file.regionName(of: tensor)
            switch tensor.name {
            case TensorName.tokenEmbedding: #expect(region == "embed")
            case TensorName.output, TensorName.outputNorm: #expect(region == "head")
            default:
                let layer = try #require(tensor.name.split(separator: ".").dropFirst().first)
                #expect(region == "layer.\(layer)", "\(tensor.name) is in \(region)")
            }
            // Every block starts on a 64-byte line, as its tensor does (PackLayout.rowsPerBlock).
            #expect(tensor.blockCount == 1 || tensor.rowsPerBlock * tensor.decodedBytesPerRow % 64 == 0, "\(tensor.name)")
            if tensor.name == TensorName.output {
                // The head keeps 6 bits with 4-bit layers by default (PackOptions.headBits).
                #expect(tensor.storage == (bits == 4 ? .q6r : .q8r) && tensor.groupSize == groupSize, "\(tensor.name)")
            } else if tensor.shape.count == 2 {
                #expect(tensor.storage == quantised && tensor.groupSize == groupSize, "\(tensor.name)")
            } else {
                #expect(tensor.storage == .f32 && tensor.groupSize == 0, "\(tensor.name)")
            }
        }
        try file.reader.verify()
    }

    /// The bound is min-max's contract (MLX's scheme); least squares trades it for lower total error.
    /// Both ways of storing group parameters keep it (`QuantisedTensorCheck` says how tightly).
    @Test(arguments: [(4, 32), (6, 32), (8, 64)].flatMap { layout in GroupParameters.allCases.map { (layout.0, layout.1, $0) } })
    func quantisedWeightsComeBackWithinHalfAScaleOfTheSource(layout: (bits: Int, groupSize: Int, parameters: GroupParameters)) throws {
        let (bits, groupSize, parameters) = layout
        let (file, sources) = try packed("llama-tiny", bits: bits, groupSize: groupSize, method: .minMax, headBits: bits, parameters: parameters)
        // FFN 688 is not a multiple of 64 (nor of 32): ffn_down rows end in a padded group.
        let down = try file.tensor(TensorName.block(0, .ffnDown))
        #expect(down.cols == 688)
        var checkedRows = 0
        for source in sources where source.shape.count == 2 {
            let tensor = try QuantisedTensorCheck(file.quantised(try file.tensor(source.name)))
            let values = try sourceValues(source)
            for row in 0..<tensor.entry.rows {
                let failure = tensor.firstFailure(row: row, source: values[(row * tensor.entry.cols)..<((row + 1) * tensor.entry.cols)])
                #expect(failure == nil, "\(source.name): \(failure ?? "")")
                if failure != nil { return }
                checkedRows += 1
            }
        }
        #expect(checkedRows == sources.filter { $0.shape.count == 2 }.reduce(0) { $0 + $1.shape[0] })
    }

    @Test(arguments: zip([4, 8], [32, 64]))
    func tokenTableIsStoredInSmallBlocksThatDecodeAlone(bits: Int, groupSize: Int) throws {
        let (file, sources) = try packed("llama-tiny", bits: bits, groupSize: groupSize)
        let table = try file.tensor(TensorName.tokenEmbedding)
        #expect(table.rowsPerBlock * table.decodedBytesPerRow <= 32 * 1024)
        #expect(table.blockCount >= 4)
        let layout = try file.quantised(table).layout
        #expect(layout.parameters == .rowScaled)
        let block = 1
        let rowCount = table.rowCount(ofBlock: block)
        let bytes = try file.bytes(of: table, block: block)
        let codeBytes = rowCount * layout.codeBytesPerRow
        let rows = Quantizer.dequantize(
            codes: Array(bytes[..<codeBytes]), scalesAndBiases: Array(bytes[codeBytes...]), rowCount: rowCount, layout: layout)
        let first = block * table.rowsPerBlock
        let source = try #require(sources.first { $0.name == TensorName.tokenEmbedding })
        let expected = try sourceValues(source, rows: first..<(first + rowCount))
        let whole = try file.quantised(table)
        for row in 0..<rowCount {
            // The block decoded alone agrees with the whole tensor's row, and both with the source.
            #expect(Array(rows[(row * table.cols)..<((row + 1) * table.cols)]) == whole.row(first + row))
        }
        let worst = zip(rows, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < (bits == 4 ? 0.05 : 0.004), "largest error \(worst)")
    }

    @Test func tiedLFM2KeepsItsTokenTableInTheHeadAndItsConvTapsInFloat32() throws {
        let (file, sources) = try packed("lfm2-tiny", bits: 4, groupSize: 32)
        #expect(file.regionNames == (0..<6).map { "layer.\($0)" } + ["head"])
        let table = try file.tensor(TensorName.tokenEmbedding)
        #expect(file.regionName(of: table) == "head")
        #expect(table.storage == .q6r, "a tied table is the head, kept at 6 bits by default")
        // Blocks of a tied table are larger than an untied one's (PackLayout.headTableBlockBytes).
        #expect(table.rowsPerBlock * table.decodedBytesPerRow <= 256 * 1024)
        #expect(file.reader.tensor(named: TensorName.output) == nil)
        for layer in [0, 1, 3, 4] {
            let conv = try file.tensor(TensorName.block(layer, .convWeight))
            #expect(conv.shape == [256, 3])
            #expect(conv.storage == .f32)
            #expect(file.regionName(of: conv) == "layer.\(layer)")
            let source = try #require(sources.first { $0.name == conv.name })
            #expect(try file.bytes(of: conv) == float32Bytes(try sourceValues(source)))
            #expect(try file.tensor(TensorName.block(layer, .convInProjection)).storage == .q4r)
        }
        for layer in [2, 5] {
            #expect(try file.tensor(TensorName.block(layer, .attentionQNorm)).storage == .f32)
            #expect(try file.tensor(TensorName.block(layer, .attentionQ)).storage == .q4r)
        }
        try file.reader.verify()
    }
}

/// Checks rows of a packed q4/q8 tensor against the source, group by group.
private struct QuantisedTensorCheck {
    let tensor: QuantisedTensor
    var entry: TensorEntry { tensor.entry }

    init(_ tensor: QuantisedTensor) { self.tensor = tensor }

    /// Why row `row` does not reproduce `source`, or nil when every value lies within half its group's scale
    /// (plus float32 rounding) and every scale is no larger than the group's range calls for.
    func firstFailure(row: Int, source: ArraySlice<Float>) -> String? {
        let layout = tensor.layout
        let decoded = tensor.row(row)
        let maxCode = Float(layout.maxCode)
        for group in 0..<layout.groupsPerRow {
            let columns = (group * layout.groupSize)..<min((group + 1) * layout.groupSize, entry.cols)
            let values = columns.map { source[source.startIndex + $0] }
            let (low, high) = (values.min()!, values.max()!)
            let (scale, bias) = tensor.parameters(row: row, group: group)
            if layout.parameters == .float16 {
                guard bias <= low, low - bias <= Float(Float16(abs(low)).ulp) else {
                    return "row \(row) group \(group): bias \(bias) for a minimum of \(low)"
                }
                // Scale is (high − bias)/maxCode rounded up to fp16: at most one fp16 step (2⁻¹⁰ relative) above it.
                guard scale * maxCode >= high - bias,
                      scale <= (high - bias) / maxCode * (1 + 0x1p-10) + Float(Float16.leastNonzeroMagnitude) else {
                    return "row \(row) group \(group): scale \(scale) for values \(low)…\(high)"
                }
            } else {
                // Row-scaled: the bias is the minimum rounded down by less than one offset step (scale · 2^(bits − 7)),
                // and the scale covers the range from it (the 8-bit grid rounds it up, so no finer bound holds per group).
                let step = scale * Float(sign: .plus, exponent: layout.bits - 7, significand: 1)
                guard bias <= low + abs(low) * 0x1p-20, low - bias <= step * (1 + 0x1p-10) else {
                    return "row \(row) group \(group): bias \(bias) for a minimum of \(low), step \(step)"
                }
                guard scale * maxCode >= (high - bias) * (1 - 0x1p-20) else {
                    return "row \(row) group \(group): scale \(scale) for values \(low)…\(high)"
                }
            }
            let slack = (scale * maxCode + abs(bias)) * 0x1p-21
            for column in columns {
                let error = abs(decoded[column] - source[source.startIndex + column])
                guard error <= scale / 2 + slack else {
                    return "row \(row) column \(column): \(decoded[column]) for \(source[source.startIndex + column]), scale \(scale)"
                }
            }
        }
        return nil
    }
}
