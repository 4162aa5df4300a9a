// SKELETON: signatures the rest of the package codes against; the Quant work fills in the bodies.

/// Affine group quantisation (MLX's scheme).
public enum Quantizer {
    /// Quantises `rowCount` rows (`rowCount · layout.cols` floats) into one block.
    /// - Returns: the block's codes, and its scales followed by its biases (fp16 bytes), as two parts
    ///   so that the container can compress them differently.
    /// - Throws: `QuantError.nonFinite` naming the row and column of an inf/NaN.
    public static func quantizeBlock(_ values: UnsafeBufferPointer<Float>, rowCount: Int, layout: QuantizedLayout) throws -> (codes: [UInt8], scalesAndBiases: [UInt8]) { fatalError("unimplemented") }
}
