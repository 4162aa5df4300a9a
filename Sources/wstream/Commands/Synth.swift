import ArgumentParser
import WStreamSynth

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic Hugging Face model of a real model's shape (for tests and benchmarks).",
        discussion: """
            The weights are random (normal(0, 0.02) with a few outliers per row, norms near 1) and deterministic \
            for a seed; the tokenizer is a small byte-level BPE padded to the shape's vocabulary. Shapes: \
            \(SyntheticShape.all.map(\.name).joined(separator: ", ")).

              wstream synth --shape lfm2-1.2b --out SampleWeights/lfm2-1.2b
            """)

    @Option(help: "The shape to generate: \(SyntheticShape.all.map(\.name).joined(separator: ", ")).")
    var shape: String

    @Option(help: "The folder to write (created if missing).")
    var out: String

    @Option(help: "Seed for the weights: the same seed writes the same files.")
    var seed: UInt64 = 0

    @Option(help: "Number of safetensors shards (default: about 1 GiB each).")
    var shards: Int?

    func run() throws {
        let shape = try SyntheticShape.named(shape)
        let bar = ProgressBar(label: "synth")
        try SyntheticModel.write(shape: shape, to: out, seed: seed, shards: shards) { written, total in
            bar.update(done: written, total: total, note: shape.name)
        }
        bar.finish()
        let bytes = try SyntheticModel.weightBytes(of: shape)
        print("wrote \(out): \(shape.name), \(bytes / 2) parameters in bf16 (\(Terminal.megabytes(bytes))) in \(Terminal.decimal(bar.elapsed))s")
    }
}
