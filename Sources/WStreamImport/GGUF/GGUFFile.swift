/// The parsed header of a GGUF file (versions 2 and 3): metadata and tensor directory, the data still mapped.
///
/// Layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic `GGUF`, version u32,
/// tensor count u64, metadata count u64, metadata (key string, type u32, value), tensor infos
/// (name, n_dims u32, dims u64 × n_dims with `ne[0]` fastest-varying, type u32, offset u64),
/// padding to `general.alignment`, then tensor data.
struct GGUFFile {
    struct TensorInfo {
        let name: String
        /// `ne[0]` first: the number of columns of a matrix.
        let dimensions: [Int]
        let typeCode: UInt32
        /// Relative to `dataStart`.
        let offset: Int
    }

    static let magic: [UInt8] = Array("GGUF".utf8)

    let file: MappedFile
    let version: UInt32
    let metadata: [String: GGUFValue]
    let tensors: [TensorInfo]
    let dataStart: Int

    var path: String { file.path }

    /// - Throws: `ImportError` for a wrong magic, an unsupported version, or any truncated or inconsistent structure.
    init(file: MappedFile) throws {
        self.file = file
        var reader = GGUFReader(file: file)
        try reader.require(4, "magic")
        let magic = Array(file.bytes[0..<4])
        guard magic == Self.magic else {
            throw ImportError.unrecognizedFormat(file: file.path, detail: "magic bytes are \(magic), GGUF files start with \"GGUF\"")
        }
        _ = try reader.read(UInt32.self, "magic")
        version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw ImportError.unsupported(file: file.path, detail: "GGUF version \(version) (versions 2 and 3 are read)")
        }
        // A tensor info takes at least 24 bytes and a metadata entry at least 13, which bounds both counts.
        let tensorCount = try reader.readCount("tensor count", minimumElementBytes: 24)
        let metadataCount = try reader.readCount("metadata count", minimumElementBytes: 13)

        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<metadataCount {
            let key = try reader.readString("metadata key")
            let type = try reader.read(UInt32.self, "type of \(key)")
            metadata[key] = try reader.readValue(type: type, key: key)
        }
        self.metadata = metadata

        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        for _ in 0..<tensorCount {
            let name = try reader.readString("tensor name")
            let dimensionCount = try reader.read(UInt32.self, "dimension count of \(name)")
            guard (1...4).contains(dimensionCount) else {
                throw ImportError.malformed(file: file.path, detail: "tensor '\(name)' has \(dimensionCount) dimensions (1 to 4 allowed)")
            }
            var dimensions: [Int] = []
            for _ in 0..<dimensionCount {
                let dimension = try reader.read(UInt64.self, "dimensions of \(name)")
                guard dimension <= UInt64(Int32.max) else {
                    throw ImportError.malformed(file: file.path, detail: "tensor '\(name)' has dimension \(dimension)")
                }
                dimensions.append(Int(dimension))
            }
            let typeCode = try reader.read(UInt32.self, "type of \(name)")
            let offset = try reader.read(UInt64.self, "offset of \(name)")
            guard offset <= UInt64(Int.max) else {
                throw ImportError.tensorOutOfBounds(file: file.path, tensor: name, start: Int.max, end: Int.max, fileSize: file.size)
            }
            tensors.append(TensorInfo(name: name, dimensions: dimensions, typeCode: typeCode, offset: Int(offset)))
        }
        self.tensors = tensors

        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment <= 1 << 20, alignment & (alignment - 1) == 0 else {
            throw ImportError.malformed(file: file.path, detail: "general.alignment is \(alignment), not a power of two")
        }
        reader.align(to: alignment)
        dataStart = reader.offset
    }

    /// Metadata value `key`, or `ImportError.missingMetadata`.
    func value(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw ImportError.missingMetadata(file: path, key: key) }
        return value
    }

    func int(_ key: String) throws -> Int {
        guard let value = try value(key).int else { throw ImportError.missingMetadata(file: path, key: key) }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let value = try value(key).string else { throw ImportError.missingMetadata(file: path, key: key) }
        return value
    }

    /// The element type of a ggml type code, or `ImportError.unsupportedTensorType`.
    func storageType(of tensor: TensorInfo) throws -> StorageType {
        switch tensor.typeCode {
        case 0: return .f32
        case 1: return .f16
        case 8: return .q8_0
        case 2: return .q4_0
        case 3: return .q4_1
        case 10: return .q2_K
        case 11: return .q3_K
        case 12: return .q4_K
        case 13: return .q5_K
        case 14: return .q6_K
        case 20: return .iq4_nl
        case 30: return .bf16
        default:
            throw ImportError.unsupportedTensorType(file: path, tensor: tensor.name, type: Self.typeName(tensor.typeCode))
        }
    }

    /// ggml's name for a type code, for error messages.
    static func typeName(_ code: UInt32) -> String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
            10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS",
            18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16",
            26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return names[code] ?? "type \(code)"
    }
}
