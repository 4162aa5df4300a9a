import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// Typed access to the tensors of one decoded region.
struct RegionWeights {
    let region: DecodedRegion
    let file: String

    /// The weight matrix `name` (or the rows of it this unit holds: see `rows(of:)`), ready for the kernels.
    func matrix(_ name: String) throws -> WeightMatrix {
        guard let (placement, bytes) = region.tensor(name) else { throw ModelError.missingTensor(file: file, tensor: name) }
        return WeightMatrix(entry: placement.tensor, base: bytes, rows: placement.rows.count)
    }

    /// The matrix rows of tensor `name` this unit holds; nil when it holds none.
    func rows(of name: String) -> Range<Int>? {
        region.tensor(name)?.placement.rows
    }

    /// The float32 vector `name` (norm weights, biases, conv taps are always stored as f32).
    func vector(_ name: String) throws -> UnsafePointer<Float> {
        guard let vector = try optionalVector(name) else { throw ModelError.missingTensor(file: file, tensor: name) }
        return vector
    }

    func optionalVector(_ name: String) throws -> UnsafePointer<Float>? {
        guard let (placement, bytes) = region.tensor(name) else { return nil }
        guard placement.tensor.storage == .f32 else {
            throw ModelError.unsupportedStorage(file: file, tensor: name, storage: placement.tensor.storage.rawValue)
        }
        return bytes.assumingMemoryBound(to: Float.self)
    }
}

extension WeightMatrix {
    /// A view of a decoded tensor in the form its entry records.
    init(entry: TensorEntry, base: UnsafeRawPointer) {
        let storage: Storage = switch entry.storage {
        case .f32: .f32
        case .f16: .f16
        case .q8: .q8
        case .q4: .q4
        }
        self.init(storage: storage, rows: entry.rows, cols: entry.cols, groupSize: entry.groupSize,
                  rowsPerBlock: entry.rowsPerBlock, base: base)
    }
}

/// `output[n][rows] = input[n][cols] · Wᵀ`: a matrix-vector product for one token, a matrix product for several.
enum Linear {
    static func apply(_ w: WeightMatrix, _ input: UnsafePointer<Float>, count: Int, _ output: UnsafeMutablePointer<Float>, pool: ComputePool) {
        if count == 1 {
            MatrixKernels.matvec(w, input, output, pool: pool)
        } else {
            MatrixKernels.matmul(w, input, count: count, output, pool: pool)
        }
    }
}
