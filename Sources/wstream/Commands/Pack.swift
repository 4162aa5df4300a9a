#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import WStreamFormat
import WStreamImport
import WStreamPack
import WStreamQuant
import WStream

struct Pack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Hugging Face directory or a GGUF file into a .wst file.",
        discussion: """
            Linear-layer weights are quantised to affine groups along each row (w ≈ scale·q + bias; 4 bits by \
            default, the output head 6); norms stay float32. Each transformer block is written to its own page-aligned \
            region in checksummed frames, stored raw so that `run` can read a block straight into place or compute on \
            it where it is mapped (--compress trades that for a ~5% smaller file). The file appears only when it is \
            complete.

            Inputs: a directory with config.json, model.safetensors (or sharded model-*.safetensors with \
            model.safetensors.index.json) and tokenizer.json, including MLX quantized folders (mlx-community's \
            …-4bit) and Hugging Face hub snapshots; or a .gguf file (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q2_K…Q6_K, \
            IQ4_NL tensors). Architectures: Llama (also Mistral), Qwen3 and LFM2.

            Already-quantized weights are carried over rather than rounded a second time. An MLX folder keeps its \
            groups (4- or 8-bit, groups of 32, 64 or 128) as published, unless --bits is given: then they are \
            re-quantized to it. GGUF blocks are carried where their codes fit the target bits (--bits, or --head-bits \
            for the output head): Q4_0, Q4_1 and Q4_K at 4 bits; Q5_K, Q8_0 and IQ4_NL at 8 (with --bits 8, or as the \
            head with --head-bits 8). Carried groups keep their own group size, and a 4-bit width where the target is 6 or 8. A group whose \
            scale or bias is not exact in fp16 keeps the rounded value when that is at least as close as re-quantizing \
            it, and is re-quantized otherwise. Everything else (Q6_K, Q3_K, Q2_K, float matrices) is dequantized and \
            quantized. `inspect --tensors` shows each tensor's origin; --requantize carries nothing.
            """)

    @Argument(help: "A Hugging Face model directory or a .gguf file.")
    var source: String

    @Option(name: .shortAndLong, help: "The .wst file to write.")
    var output: String

    @Option(help: "Bits per weight: 4, 6 or 8 (affine groups), 16 (fp16), 32 (float32 exactly as the source holds it); default 4. Given explicitly, an MLX folder's groups are re-quantized to it too.")
    var bits: Int?

    @Option(help: "Weights per affine group along a row: 32, 64 or 128.")
    var groupSize = 32

    @Option(help: "Bits of the output head (the token table when embeddings are tied): 4, 6, 8, 16 or 32; default 6 with --bits 4 (as llama.cpp's q6_K head), else --bits.")
    var headBits: Int?

    @Option(help: "How group scales and biases are chosen: least-squares (lower error; may clip an outlier) or min-max (MLX's: every value within scale/2).")
    var quantizer = "least-squares"

    @Option(help: ArgumentHelp(
        "How quantised groups store their scale and bias: row-scaled (8-bit multiples of a scale per row: 4.5 bits per 4-bit weight) or float16 (MLX's fp16 pair: 5 bits).",
        discussion: "row-scaled is the default: a decode step reads 9 % fewer bytes (LFM2-1.2B shape), for a squared error 0.5 % above float16's. Groups carried over from MLX or GGUF keep their fp16 parameters."))
    var groupParameters = GroupParameters.rowScaled.rawValue

    @Flag(help: "Compress frames with zstd (about 5% smaller at 4 bits; every streamed block is then decoded on each pass).")
    var compress = false

    @Option(help: "zstd level with --compress (1–19). Weights compress little; higher levels mostly cost time.")
    var level = 3

    @Option(help: "Threads that quantise and compress.")
    var threads = Engine.coreCount

    @Flag(help: "Re-quantize every matrix from its dequantized values instead of carrying the source's own groups over.")
    var requantize = false

    func run() async throws {
        guard let method = QuantizationMethod(rawValue: quantizer) else {
            throw ValidationError("--quantizer must be one of: \(QuantizationMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let parameters = GroupParameters(rawValue: groupParameters) else {
            throw ValidationError("--group-parameters must be one of: \(GroupParameters.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        prepareOutputFolder()
        let model = try ModelImporter.importModel(at: source)
        var options = PackOptions()
        options.method = method
        options.groupParameters = parameters
        options.headBits = headBits
        options.bits = bits ?? 4
        options.keepNativeGroups = bits == nil
        options.groupSize = groupSize
        options.compressionLevel = compress ? level : nil
        options.threads = max(1, threads)
        options.requantize = requantize
        let bar = ProgressBar(label: "packing")
        let summary = try Packer.pack(model, to: output, options: options) { progress in
            bar.update(done: progress.bytesDone, total: progress.bytesTotal,
                       note: "\(progress.tensorsDone)/\(progress.tensorCount) \(progress.tensorName)")
        }
        bar.finish()
        let config = model.config
        print("""
            wrote \(output): \(config.architecture.rawValue), \(config.layerCount) blocks, \(summary.parameterCount) parameters, \
            \(Terminal.megabytes(summary.outputBytes)) (\(Terminal.decimal(summary.bitsPerWeight, places: 2)) bits/weight) \
            in \(Terminal.decimal(summary.seconds))s
            """)
        print("  origin: \(summary.originLine)")
        if summary.codesDecoded > 0 {
            print("  codes:  \(Terminal.megabytes(summary.codesDecoded)) → \(Terminal.megabytes(summary.codesStored)) (zstd ×\(Terminal.decimal(ratio(summary.codesDecoded, summary.codesStored), places: 3)))")
            print("  scales: \(Terminal.megabytes(summary.scalesDecoded)) → \(Terminal.megabytes(summary.scalesStored)) (zstd ×\(Terminal.decimal(ratio(summary.scalesDecoded, summary.scalesStored), places: 3)))")
        }
        if summary.floatsDecoded > 0 {
            print("  floats: \(Terminal.megabytes(summary.floatsDecoded)) → \(Terminal.megabytes(summary.floatsStored)) (zstd ×\(Terminal.decimal(ratio(summary.floatsDecoded, summary.floatsStored), places: 3)))")
        }
    }

    /// Removes what killed packs left in the output's folder, and makes sure this one leaves nothing when it is
    /// interrupted (SIGINT, SIGTERM, SIGHUP) or reaches a file-size limit.
    private func prepareOutputFolder() {
        for abandoned in WriterTemporaryFile.removeAbandoned(besides: output) {
            Terminal.error("removed \(abandoned.path), left by process \(abandoned.processID), which no longer runs")
        }
        InterruptedWriteCleanup.install(removing: WriterTemporaryFile.path(for: output))
        // Past RLIMIT_FSIZE a write then fails with EFBIG, which the writer reports and cleans up after, where the
        // default SIGXFSZ would end the process and leave the temporary file.
        _ = signal(SIGXFSZ, SIG_IGN)
    }

    private func ratio(_ decoded: Int, _ stored: Int) -> Double { stored > 0 ? Double(decoded) / Double(stored) : 0 }
}
