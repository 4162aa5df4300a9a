/// Writes small GGUF files for tests: metadata of any type, tensors with raw bytes of any ggml type.
public struct GGUFBuilder {
    public var version: UInt32 = 3
    public var alignment = 32
    private var metadata: [UInt8] = []
    private var metadataCount: UInt64 = 0
    private var tensors: [(name: String, dimensions: [UInt64], type: UInt32, data: [UInt8])] = []

    public init() {}

    public mutating func add(_ key: String, uint32 value: UInt32) { entry(key, type: 4) { $0.append(value) } }
    public mutating func add(_ key: String, float32 value: Float) { entry(key, type: 6) { $0.append(value.bitPattern) } }
    public mutating func add(_ key: String, bool value: Bool) { entry(key, type: 7) { $0.append(UInt8(value ? 1 : 0)) } }
    public mutating func add(_ key: String, string value: String) { entry(key, type: 8) { $0.append(string: value) } }
    public mutating func add(_ key: String, strings values: [String]) {
        entry(key, type: 9) { bytes in
            bytes.append(UInt32(8))
            bytes.append(UInt64(values.count))
            for value in values { bytes.append(string: value) }
        }
    }
    public mutating func add(_ key: String, float32s values: [Float]) {
        entry(key, type: 9) { bytes in
            bytes.append(UInt32(6))
            bytes.append(UInt64(values.count))
            for value in values { bytes.append(value.bitPattern) }
        }
    }
    public mutating func add(_ key: String, int32s values: [Int32]) {
        entry(key, type: 9) { bytes in
            bytes.append(UInt32(5))
            bytes.append(UInt64(values.count))
            for value in values { bytes.append(value) }
        }
    }

    /// Adds a tensor; `dimensions` in GGUF order (`ne[0]` = columns first).
    public mutating func addTensor(_ name: String, dimensions: [Int], type: UInt32, data: [UInt8]) {
        tensors.append((name, dimensions.map(UInt64.init), type, data))
    }

    public func build() -> [UInt8] {
        var bytes: [UInt8] = Array("GGUF".utf8)
        bytes.append(version)
        bytes.append(UInt64(tensors.count))
        bytes.append(metadataCount)
        bytes += metadata
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset = (offset + tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (tensor, offset) in zip(tensors, offsets) {
            bytes.append(string: tensor.name)
            bytes.append(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { bytes.append(dimension) }
            bytes.append(tensor.type)
            bytes.append(UInt64(offset))
        }
        let dataStart = (bytes.count + alignment - 1) / alignment * alignment
        bytes += Array(repeating: 0, count: dataStart - bytes.count)
        for (tensor, offset) in zip(tensors, offsets) {
            bytes += Array(repeating: 0, count: dataStart + offset - bytes.count)
            bytes += tensor.data
        }
        return bytes
    }

    private mutating func entry(_ key: String, type: UInt32, value: (inout [UInt8]) -> Void) {
        metadata.append(string: key)
        metadata.append(type)
        value(&metadata)
        metadataCount += 1
    }
}

extension Array where Element == UInt8 {
    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    public mutating func append(string: String) {
        append(UInt64(string.utf8.count))
        append(contentsOf: string.utf8)
    }

    /// Float32 values as little-endian bytes.
    public static func float32(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { bytes.append(value.bitPattern) }
        return bytes
    }
}
