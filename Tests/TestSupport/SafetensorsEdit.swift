import FoundationEssentials

/// A safetensors file read into memory so a test can alter its tensors and write it back (damaged-input tests).
public struct SafetensorsEdit {
    public struct Tensor {
        public var dtype: String
        public var shape: [Int]
        public var bytes: [UInt8]
    }

    public var tensors: [String: Tensor]

    /// Reads every tensor of `path`.
    public init(path: String) throws {
        let bytes = try FileContents.read(path)
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<(8 + headerLength)]))
        tensors = header.entries.mapValues { entry in
            Tensor(dtype: entry.dtype, shape: entry.shape,
                   bytes: Array(bytes[(8 + headerLength + entry.data_offsets[0])..<(8 + headerLength + entry.data_offsets[1])]))
        }
    }

    /// Writes the tensors, in name order, to `path`.
    public func write(to path: String) throws {
        var header: [String] = []
        var data: [UInt8] = []
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            header.append("\"\(name)\":{\"dtype\":\"\(tensor.dtype)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(data.count),\(data.count + tensor.bytes.count)]}")
            data += tensor.bytes
        }
        let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        var bytes: [UInt8] = []
        bytes.append(UInt64(json.count))
        try FileContents.write(bytes + json + data, to: path)
    }

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
}
