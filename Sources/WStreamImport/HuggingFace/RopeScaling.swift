#if canImport(Glibc)
import Glibc
#endif

/// config.json's `rope_scaling` (or `rope_parameters`), turned into per-frequency divisors
/// (`ModelConfig.ropeFrequencyFactors`).
struct RopeScaling {
    let rope_type: String?
    let type: String?
    let factor: Double?
    let low_freq_factor: Double?
    let high_freq_factor: Double?
    let original_max_position_embeddings: Double?

    init(values: [String: JSONValue]) {
        rope_type = values["rope_type"]?.string
        type = values["type"]?.string
        factor = values["factor"]?.double
        low_freq_factor = values["low_freq_factor"]?.double
        high_freq_factor = values["high_freq_factor"]?.double
        original_max_position_embeddings = values["original_max_position_embeddings"]?.double
    }

    /// Llama 3's scaling (transformers' `_compute_llama3_parameters`): wavelengths longer than
    /// `original / low_freq_factor` are divided by `factor`, shorter than `original / high_freq_factor` kept,
    /// and those between interpolated smoothly. nil for `default`.
    /// - Throws: `ImportError.unsupported` for other kinds (linear, dynamic, yarn, …) or missing keys.
    func frequencyFactors(headDim: Int, theta: Double, file: String) throws -> [Float]? {
        let kind = rope_type ?? type ?? "default"
        if kind == "default" { return nil }
        guard kind == "llama3" else {
            throw ImportError.unsupported(file: file, detail: "rope_scaling type '\(kind)' (supported: llama3)")
        }
        guard let factor, let low = low_freq_factor, let high = high_freq_factor, let original = original_max_position_embeddings,
              factor > 0, high > low
        else {
            throw ImportError.malformed(file: file, detail: "rope_scaling llama3 needs factor, low_freq_factor < high_freq_factor, original_max_position_embeddings")
        }
        return (0..<(headDim / 2)).map { i in
            let frequency = 1 / pow(theta, Double(2 * i) / Double(headDim))
            let wavelength = 2 * Double.pi / frequency
            if wavelength < original / high { return 1 }
            if wavelength > original / low { return Float(factor) }
            let smooth = (original / wavelength - low) / (high - low)
            let scaled = (1 - smooth) * frequency / factor + smooth * frequency
            return Float(frequency / scaled)
        }
    }
}
