import FoundationEssentials

/// The float32 tensors of a reference `.safetensors` file in ../shared/models (e.g. `dequantized.safetensors`),
/// read whole: they are small, and tests compare against every value.
public struct ReferenceTensors {
    public struct Tensor {
        public let shape: [Int]
        public let values: [Float]

        /// Row `row` of a matrix.
        public func row(_ row: Int) -> ArraySlice<Float> {
            let cols = shape.last!
            return values[(row * cols)..<((row + 1) * cols)]
        }
    }

    /// By name as the file spells it.
    public let tensors: [String: Tensor]

    /// Reads every F32 tensor of `relative` (inside the shared models folder).
    /// - Throws: `MissingSharedFile` when it is absent, `ReferenceFileError` when it is not F32 safetensors.
    public static func load(_ relative: String) throws -> ReferenceTensors {
        let path = try SharedModels.path(relative)
        let bytes = try FileContents.read(path)
        guard bytes.count >= 8 else { throw ReferenceFileError(path: path, detail: "shorter than a safetensors header") }
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength <= bytes.count - 8 else { throw ReferenceFileError(path: path, detail: "header runs past the end") }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<(8 + headerLength)]))
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header.entries {
            guard entry.dtype == "F32", entry.data_offsets.count == 2 else {
                throw ReferenceFileError(path: path, detail: "\(name) is \(entry.dtype), not F32")
            }
            let start = 8 + headerLength + entry.data_offsets[0]
            let end = 8 + headerLength + entry.data_offsets[1]
            guard end <= bytes.count, (end - start) == 4 * entry.shape.reduce(1, *) else {
                throw ReferenceFileError(path: path, detail: "\(name) has offsets \(entry.data_offsets) for shape \(entry.shape)")
            }
            let values = bytes[start..<end].withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            tensors[name] = Tensor(shape: entry.shape, values: values)
        }
        return ReferenceTensors(tensors: tensors)
    }

    /// The tensor called `name`.
    /// - Throws: `ReferenceFileError` when the file has no such tensor.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else { throw ReferenceFileError(path: name, detail: "not in the reference file") }
        return tensor
    }
}

/// A reference file that is not what the tests expect.
public struct ReferenceFileError: Error, CustomStringConvertible {
    public let path: String
    public let detail: String
    public var description: String { "\(path): \(detail)" }
}

/// A safetensors header with `__metadata__` (string values, not a tensor entry) skipped.
private struct Header: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    let entries: [String: Entry]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var entries: [String: Entry] = [:]
        for key in container.allKeys where key.stringValue != "__metadata__" {
            entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
        }
        self.entries = entries
    }
}
