#if canImport(Glibc)
import Glibc
#endif

/// Writes a `.safetensors` file as a stream: the header first (every tensor's name, dtype and shape is known up front),
/// then each tensor's bytes in order, so a model of any size is written without holding it in memory.
public final class SafetensorsWriter {
    /// Element types the writer produces.
    public enum DType: String, Sendable {
        case f32 = "F32"
        case bf16 = "BF16"

        public var byteCount: Int { self == .f32 ? 4 : 2 }
    }

    /// One tensor of the file, declared before any data is written.
    public struct Tensor: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]

        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        public var byteCount: Int { shape.reduce(dtype.byteCount, *) }
    }

    public let path: String
    private let tensors: [Tensor]
    private let descriptor: Int32
    /// Index of the tensor being written and bytes of it written so far.
    private var current = 0
    private var writtenOfCurrent = 0
    private var scratch: [UInt8] = []

    /// Creates (or truncates) `path` and writes the header.
    /// - Parameters:
    ///   - tensors: every tensor, in the order their data will be appended.
    ///   - metadata: the `__metadata__` string map.
    /// - Throws: `ImportError.writeFailed`.
    public init(path: String, tensors: [Tensor], metadata: [String: String] = ["format": "pt"]) throws {
        self.path = path
        self.tensors = tensors
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ImportError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
        var json = "{\"__metadata__\":{"
        json += metadata.keys.sorted().map { "\(JSONString.quoted($0)):\(JSONString.quoted(metadata[$0]!))" }.joined(separator: ",")
        json += "}"
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.byteCount
            json += ",\(JSONString.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        let padding = (8 - json.utf8.count % 8) % 8
        json += String(repeating: " ", count: padding)
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { header += $0 }
        header += Array(json.utf8)
        try header.withUnsafeBytes { try writeAll($0) }
        skipCompletedTensors()
    }

    deinit { close(descriptor) }

    /// Appends float32 values to the current tensor, converting them to its dtype (bfloat16 rounds to nearest even).
    /// - Throws: `ImportError.writeFailed` on an I/O error or when the values overrun the current tensor.
    public func append(_ values: UnsafeBufferPointer<Float>) throws {
        guard current < tensors.count else { throw overrun(values.count) }
        switch tensors[current].dtype {
        case .f32:
            try appendEncoded(UnsafeRawBufferPointer(values))
        case .bf16:
            scratch.removeAll(keepingCapacity: true)
            scratch.reserveCapacity(values.count * 2)
            for value in values {
                let bits = Self.bfloat16Bits(value)
                scratch.append(UInt8(truncatingIfNeeded: bits))
                scratch.append(UInt8(truncatingIfNeeded: bits >> 8))
            }
            try scratch.withUnsafeBytes { try appendEncoded($0) }
        }
    }

    /// Appends bytes already encoded in the current tensor's dtype (little-endian); they may span several tensors.
    /// - Throws: `ImportError.writeFailed` on an I/O error or when the bytes pass the last tensor.
    public func appendEncoded(_ bytes: UnsafeRawBufferPointer) throws {
        let remaining = tensors[current...].reduce(0) { $0 + $1.byteCount } - writtenOfCurrent
        guard bytes.count <= remaining else { throw overrun(bytes.count) }
        try writeAll(bytes)
        writtenOfCurrent += bytes.count
        skipCompletedTensors()
    }

    /// Checks that every declared byte was written, and optionally waits until they are on disk.
    /// - Parameter synchronize: `fsync` the file; files that are regenerated at will (synthetic models) skip it,
    ///   which for gigabytes is the difference between page-cache speed and disk speed.
    /// - Throws: `ImportError.writeFailed` naming the first incomplete tensor, or on an fsync error.
    public func finish(synchronize: Bool = true) throws {
        guard current == tensors.count else {
            throw ImportError.writeFailed(
                file: path, reason: "tensor '\(tensors[current].name)' got \(writtenOfCurrent) of \(tensors[current].byteCount) bytes")
        }
        guard !synchronize || fsync(descriptor) == 0 else { throw ImportError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
    }

    /// The bfloat16 nearest to `value` (ties to even; NaN stays NaN).
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    private func skipCompletedTensors() {
        while current < tensors.count, writtenOfCurrent >= tensors[current].byteCount {
            writtenOfCurrent -= tensors[current].byteCount
            current += 1
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw ImportError.writeFailed(file: path, reason: String(cString: strerror(errno)))
            }
            done += count
        }
    }

    private func overrun(_ count: Int) -> ImportError {
        ImportError.writeFailed(file: path, reason: "\(count) more bytes than the declared tensors hold")
    }
}
