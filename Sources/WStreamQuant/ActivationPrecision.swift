/// How the quantised kernels treat the activations they multiply q4/q8 weights with.
///
/// f16 and f32 weights always use float32 activations.
public enum ActivationPrecision: String, Sendable, Equatable, CaseIterable {
    /// Each input quantised once per product to int8 in blocks of 32 columns (one float scale per block),
    /// then integer dot products (see `QuantizedActivations`): the default, several times faster.
    case int8
    /// Float32 activations against weights decoded to float in registers: for comparisons that need the
    /// exact float product, such as references computed with float32 activations.
    case float32
}
