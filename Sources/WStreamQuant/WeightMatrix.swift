// SKELETON: signatures the rest of the package codes against; the Quant work fills in the bodies.

/// A read-only view of a decoded weight matrix in memory the caller owns (a pool slot).
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Sendable { case f32, f16, q8, q4 }
    public let storage: Storage
    public let rows: Int
    public let cols: Int
    /// Affine group size (q4/q8).
    public let groupSize: Int
    /// Rows per stored block (see `QuantizedLayout`); f32/f16 are plain row-major and ignore it.
    public let rowsPerBlock: Int
    public let base: UnsafeRawPointer

    public init(storage: Storage, rows: Int, cols: Int, groupSize: Int, rowsPerBlock: Int, base: UnsafeRawPointer) {
        self.storage = storage
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.rowsPerBlock = rowsPerBlock
        self.base = base
    }
}

/// Products of weight matrices with activations, computed directly on the stored form.
public enum MatrixKernels {
    /// `y[rows] = W · x[cols]`.
    public static func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ComputePool) { fatalError("unimplemented") }
    /// `Y[n][rows] = X[n][cols] · Wᵀ`: each weight group is dequantised once for all `n` inputs.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>, pool: ComputePool) { fatalError("unimplemented") }
    /// Dequantises row `row` into `destination[cols]` (embedding lookup).
    public static func dequantizeRow(_ w: WeightMatrix, row: Int, into destination: UnsafeMutablePointer<Float>) { fatalError("unimplemented") }
}

/// A fixed set of worker threads for data-parallel loops (no thread is created per call).
public final class ComputePool: @unchecked Sendable {
    public let threadCount: Int
    public init(threadCount: Int) { fatalError("unimplemented") }
    /// Runs `body(i)` for `i` in `0 ..< count` across the pool's threads and waits for all.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) { fatalError("unimplemented") }
}
