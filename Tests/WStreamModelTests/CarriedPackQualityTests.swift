import Foundation
import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamModel
import WStreamPack
import WStreamQuant

/// The figures for issue 11's closing note, per kind of already-quantized source: how much error the default pack
/// (groups carried over) and `--requantize` (dequantize, then quantize again) add against the float32 original,
/// in the weights and in the next-token distribution, with each pack's size and time. Prints one markdown table row
/// per source and holds the carried path to never being the worse one.
@Suite(.serialized) struct CarriedPackQualityTests {
    /// A quantized checkpoint in ../shared/models and the float32 original it was made from.
    struct Source {
        let label: String
        let path: String
        let original: String
        /// `--bits`; nil packs with the defaults, as `wstream pack` without the option.
        let bits: Int?
        /// Every matrix the source quantized is carried bit for bit at these bits (CarriedPackTests checks that).
        let carriesLosslessly: Bool
    }

    static let sources: [Source] = {
        let kquantF32 = "tiny-kquant/tiny-kquant-f32.gguf"
        func kquant(_ type: String, bits: Int? = nil, lossless: Bool = false) -> Source {
            Source(label: bits.map { "\(type) --bits \($0)" } ?? type, path: "tiny-kquant/tiny-kquant-\(type).gguf",
                   original: kquantF32, bits: bits, carriesLosslessly: lossless)
        }
        return [
            kquant("Q4_0", lossless: true), kquant("Q4_K_M"), kquant("Q5_K_M"), kquant("Q6_K"), kquant("Q3_K_M"), kquant("Q2_K"),
            kquant("IQ4_NL"), kquant("IQ4_NL", bits: 8, lossless: true),
            Source(label: "MLX q4 g32 (stories260K)", path: "stories260K-mlx4", original: "stories260K/hf", bits: nil, carriesLosslessly: true),
            Source(label: "MLX q4 g64 (tiny-lfm2)", path: "tiny-lfm2-mlx4", original: "tiny-lfm2/hf", bits: nil, carriesLosslessly: true),
            Source(label: "MLX q4 g64 (tiny-qwen3)", path: "tiny-qwen3-mlx4", original: "tiny-qwen3/hf", bits: nil, carriesLosslessly: true),
        ]
    }()

    /// How much worse than `--requantize` the carried path's weight rel-RMSE may be where carried groups are not
    /// exact. A carried K-quant group whose scale or bias fp16 rounds is kept only when it is at least as close to
    /// the source's values as re-quantizing it, so its distance to the source never exceeds the requantized one's;
    /// against the original the source's own error `e` adds a cross term `2·Σe·δ` with the path's error `δ`, which
    /// is uncorrelated with `e` and of order `‖δ‖·‖e‖/√N` over N ≈ 10⁶ weights: far below 0.5 %.
    static let weightTolerance = 0.005
    /// How much higher than `--requantize`'s the carried path's mean KL may be: 5 % of it plus 1e-5 nats. KL is
    /// not monotone in the weight error (two roundings of equal size move one text's logits differently), so a
    /// carry that is closer in the weights is allowed that much spread in the distribution over one text.
    static let klTolerance = (relative: 0.05, absolute: 1e-5)

    let directory = TemporaryDirectory("wstream-carried-quality")

    /// A finished pack: where it is, what the packer reported, and its wall time (import included, as `wstream pack`).
    /// The tests' debug build compiles WStreamPack and WStreamImport unoptimised (only the hot modules get `-O`), which
    /// slows the carried path's group-by-group code far more than re-quantizing in WStreamQuant: the times are printed
    /// for what they are, and a release `wstream pack` gives the figures to quote.
    struct Pack {
        let path: String
        let summary: PackSummary
        let seconds: Double
    }

    func pack(_ source: String, bits: Int?, requantize: Bool, name: String) throws -> Pack {
        var options = PackOptions()
        // As `wstream pack`: an explicit --bits re-quantizes groups a source stores natively (MLX) to it.
        options.bits = bits ?? 4
        options.keepNativeGroups = bits == nil
        options.requantize = requantize
        let path = directory.file(name)
        let clock = ContinuousClock()
        let start = clock.now
        let summary = try Packer.pack(try ModelImporter.importModel(at: source), to: path, options: options)
        let elapsed = (clock.now - start).components
        return Pack(path: path, summary: summary, seconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18)
    }

    /// The quantized tensors of `path`, in file order.
    static func quantizedMatrices(in path: String) throws -> [TensorEntry] {
        try ContainerReader(path: path).metadata.tensors.filter { $0.storage.codeBits != nil }
    }

    /// Every value of the quantized tensor `entry`, row-major, dequantized through the kernels' own addressing.
    static func dequantized(_ entry: TensorEntry, in reader: ContainerReader) throws -> [Float] {
        let bytes = try reader.decodedBytes(of: entry)
        var values = [Float](repeating: .nan, count: entry.rows * entry.cols)
        bytes.withUnsafeBytes { raw in
            let matrix = WeightMatrix(
                storage: WeightMatrix.Storage(codeBits: entry.storage.codeBits!)!, rows: entry.rows, cols: entry.cols, groupSize: entry.groupSize,
                rowsPerBlock: entry.rowsPerBlock, parameters: entry.storage.isRowScaled ? .rowScaled : .float16, base: raw.baseAddress!)
            values.withUnsafeMutableBufferPointer { out in
                for row in 0..<entry.rows { MatrixKernels.dequantizeRow(matrix, row: row, into: out.baseAddress! + row * entry.cols) }
            }
        }
        return values
    }

    /// sqrt(Σ(packed − original)² / Σ original²) over the tensors `names` of the pack at `path`. Both sides are in
    /// canonical layout (the importer undoes GGUF's per-head Q/K row order for the original as for the source),
    /// so rows correspond one to one.
    static func relativeRMSE(of path: String, against original: ImportedModel, names: [String]) throws -> Double {
        let reader = try ContainerReader(path: path)
        var squaredError = 0.0
        var squaredOriginal = 0.0
        for name in names {
            let entry = try #require(reader.tensor(named: name), "\(name) is not in \(path)")
            #expect(entry.storage.codeBits != nil, "\(name) in \(path) is \(entry.storage)")
            let source = try #require(original.tensors.first { $0.name == name }, "\(name) is not in \(original.source)")
            try #require(source.shape == entry.shape, "\(name): \(entry.shape) packed, \(source.shape) in the original")
            var expected = [Float](repeating: .nan, count: entry.rows * entry.cols)
            try expected.withUnsafeMutableBufferPointer { try source.readRows(0..<entry.rows, into: $0) }
            for (packed, value) in zip(try dequantized(entry, in: reader), expected) {
                squaredError += Double(packed - value) * Double(packed - value)
                squaredOriginal += Double(value) * Double(value)
            }
        }
        return (squaredError / squaredOriginal).squareRoot()
    }

    /// Opens `path` computing in float32 (activations and KV cache), so the figures are about the weights alone.
    static func float32Model(_ path: String) throws -> LanguageModel {
        var options = LanguageModel.Options(contextLength: 300, budget: nil, threads: 2)
        options.logitsForEveryPosition = true
        options.activationPrecision = .float32
        options.float16Cache = false
        return try LanguageModel(path: path, options: options)
    }

    static func tableHeader() -> String {
        """
        | source | default pack: origins | rel-RMSE carried | rel-RMSE requantized | top-1 carried | KL carried (nats) \
        | top-1 requantized | KL requantized (nats) | positions | .wst carried / requantized | pack time carried / requantized (debug build) |
        | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
        """
    }

    @Test func carryingGroupsAddsNoMoreErrorThanRequantizing() throws {
        var rows: [String] = []
        for source in Self.sources {
            let sourcePath = try SharedModels.path(source.path)
            let original = try SharedModels.path(source.original)
            let name = source.label.filter { $0.isLetter || $0.isNumber }
            let carried = try pack(sourcePath, bits: source.bits, requantize: false, name: "\(name)-carried.wst")
            let requantized = try pack(sourcePath, bits: source.bits, requantize: true, name: "\(name)-requantized.wst")
            let exact = try pack(original, bits: 32, requantize: false, name: "\(name)-f32.wst")

            // Both figures cover the same matrices: every one either path stores in 4 or 8 bits.
            let names = try Self.quantizedMatrices(in: carried.path).map(\.name)
            try #require(!names.isEmpty, "\(source.label): no quantized matrix in \(carried.path)")
            #expect(try Self.quantizedMatrices(in: requantized.path).map(\.name) == names, "\(source.label)")
            let originalModel = try ModelImporter.importModel(at: original)
            let carriedRMSE = try Self.relativeRMSE(of: carried.path, against: originalModel, names: names)
            let requantizedRMSE = try Self.relativeRMSE(of: requantized.path, against: originalModel, names: names)

            let reference = try Self.float32Model(exact.path)
            let tokens = Array(reference.tokenizer.encode(QuantizedAgreementTests.story).prefix(257))
            try #require(tokens.count > 128, "\(source.label): the story gives only \(tokens.count) tokens")
            let carriedAgreement = try Evaluation.run(model: try Self.float32Model(carried.path), reference: reference, tokens: tokens)
            let requantizedAgreement = try Evaluation.run(model: try Self.float32Model(requantized.path), reference: reference, tokens: tokens)
            let carriedKL = try #require(carriedAgreement.meanKLDivergence)
            let requantizedKL = try #require(requantizedAgreement.meanKLDivergence)

            rows.append(
                "| \(source.label) | \(carried.summary.originLine) "
                    + String(format: "| %.4f | %.4f ", carriedRMSE, requantizedRMSE)
                    + String(format: "| %.1f %% | %.3g ", 100 * carriedAgreement.topOneAgreement!, carriedKL)
                    + String(format: "| %.1f %% | %.3g ", 100 * requantizedAgreement.topOneAgreement!, requantizedKL)
                    + "| \(carriedAgreement.tokens) "
                    + String(format: "| %.3f / %.3f MB ", Double(carried.summary.outputBytes) / 1e6, Double(requantized.summary.outputBytes) / 1e6)
                    + String(format: "| %.0f / %.0f ms |", 1000 * carried.seconds, 1000 * requantized.seconds))

            if source.carriesLosslessly {
                #expect(carriedRMSE <= requantizedRMSE, "\(source.label): carried rel-RMSE \(carriedRMSE) > requantized \(requantizedRMSE)")
            }
            #expect(carriedRMSE <= requantizedRMSE * (1 + Self.weightTolerance),
                    "\(source.label): carried rel-RMSE \(carriedRMSE) exceeds requantized \(requantizedRMSE) by more than the tolerance")
            #expect(carriedKL <= requantizedKL * (1 + Self.klTolerance.relative) + Self.klTolerance.absolute,
                    "\(source.label): carried KL \(carriedKL) exceeds requantized \(requantizedKL) by more than the tolerance")
        }
        print(([Self.tableHeader()] + rows).joined(separator: "\n"))
    }
}
