import ArgumentParser
import WStreamQuant

/// The model shapes `bench --kernels` can build its set of matrices from.
enum KernelShape: String, CaseIterable, ExpressibleByArgument {
    case lfm2 = "lfm2-1.2b"
    case llama = "llama-3.2-1b"

    /// The shape's name as the report prints it.
    var title: String {
        switch self {
        case .lfm2: "LFM2-1.2B"
        case .llama: "Llama-3.2-1B"
        }
    }

    /// The set: `layers` of the shape's blocks, and its head when all 16 are in.
    func configuration(layers: Int) -> KernelBenchmark.Configuration {
        switch self {
        case .lfm2: .lfm2(layers: layers)
        case .llama: .llama32_1B(layers: layers)
        }
    }
}
