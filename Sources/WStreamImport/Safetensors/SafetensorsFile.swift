import FoundationEssentials

/// One mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// (`name → {dtype, shape, data_offsets}` plus `__metadata__`), then the tensor bytes.
struct SafetensorsFile {
    struct Entry {
        let name: String
        let storage: StorageType
        let shape: [Int]
        /// Absolute byte offset in the file.
        let offset: Int
    }

    let file: MappedFile
    /// By source name.
    let entries: [String: Entry]

    /// - Throws: `ImportError` for a truncated or malformed header, unsupported dtypes,
    ///   or data offsets that disagree with the shape or pass the end of the file.
    init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        guard file.size >= 8 else {
            throw ImportError.truncated(file: path, what: "header length", offset: 0, needed: 8, fileSize: file.size)
        }
        let headerLength = UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(file.size - 8) else {
            throw ImportError.truncated(file: path, what: "JSON header", offset: 8, needed: Int(clamping: headerLength), fileSize: file.size)
        }
        let dataStart = 8 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes: file.base + 8, count: Int(headerLength)))
        } catch {
            throw ImportError.malformed(file: path, detail: "JSON header: \(error)")
        }
        var entries: [String: Entry] = [:]
        for (name, raw) in header.tensors {
            guard let storage = StorageType(rawValue: raw.dtype), storage.blockElements == 1 else {
                throw ImportError.unsupportedTensorType(file: path, tensor: name, type: raw.dtype)
            }
            guard raw.data_offsets.count == 2, raw.shape.allSatisfy({ $0 >= 0 }) else {
                throw ImportError.malformed(file: path, detail: "tensor '\(name)' has shape \(raw.shape) and data_offsets \(raw.data_offsets)")
            }
            let (begin, end) = (raw.data_offsets[0], raw.data_offsets[1])
            var count = storage.blockBytes
            for dimension in raw.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw ImportError.malformed(file: path, detail: "tensor '\(name)' shape \(raw.shape) overflows") }
                count = product
            }
            guard begin >= 0, end - begin == count else {
                throw ImportError.malformed(
                    file: path, detail: "tensor '\(name)' data_offsets \(raw.data_offsets) hold \(end - begin) bytes, its \(raw.dtype) shape \(raw.shape) needs \(count)")
            }
            try file.checkRange(offset: dataStart + begin, count: count, tensor: name)
            entries[name] = Entry(name: name, storage: storage, shape: raw.shape, offset: dataStart + begin)
        }
        self.entries = entries
    }

    /// The header with `__metadata__` skipped, since its values are strings rather than tensor entries.
    private struct Header: Decodable {
        struct RawEntry: Decodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }

        struct Key: CodingKey {
            let stringValue: String
            init?(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        let tensors: [String: RawEntry]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            var tensors: [String: RawEntry] = [:]
            for key in container.allKeys where key.stringValue != "__metadata__" {
                tensors[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
            }
            self.tensors = tensors
        }
    }
}
