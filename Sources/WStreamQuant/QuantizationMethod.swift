/// How a group's scale and bias are chosen. Both store the same format (`w ≈ scale · q + bias`).
public enum QuantizationMethod: String, Sendable, CaseIterable {
    /// MLX's scheme: the group's range. No value is clipped and every value reconstructs within `scale / 2`.
    case minMax = "min-max"
    /// Starts from `minMax`, then refits scale and bias to the codes by least squares while the group's
    /// squared error falls (as llama.cpp's k-quants do). An outlier may be clipped, but the group's squared
    /// error is never above `minMax`'s, and on stories260K the mean KL divergence to float32 drops by about a third.
    case leastSquares = "least-squares"
}
