/// A bounds-checked little-endian cursor over a GGUF file's header; every read that would pass the end throws.
///
/// Lengths and counts come from the (possibly hostile) file, so each is checked against the bytes that remain
/// before anything is allocated.
struct GGUFReader {
    let file: MappedFile
    private(set) var offset = 0

    init(file: MappedFile) { self.file = file }

    var remaining: Int { file.size - offset }

    /// Ensures `count` more bytes exist for `what`.
    func require(_ count: Int, _ what: String) throws {
        guard count >= 0, count <= remaining else {
            throw ImportError.truncated(file: file.path, what: what, offset: offset, needed: count, fileSize: file.size)
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        try require(MemoryLayout<T>.size, what)
        let value = file.base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    /// Reads a count or length and checks that `minimumElementBytes` per element could still follow.
    mutating func readCount(_ what: String, minimumElementBytes: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what)
        guard raw <= UInt64(remaining / max(minimumElementBytes, 1)) else {
            offset = start
            throw ImportError.truncated(
                file: file.path, what: "\(what) (\(raw) of at least \(minimumElementBytes) bytes each)", offset: start,
                needed: Int(clamping: raw), fileSize: file.size)
        }
        return Int(raw)
    }

    mutating func readString(_ what: String) throws -> String {
        let length = try readCount("length of \(what)", minimumElementBytes: 1)
        let bytes = UnsafeRawBufferPointer(start: file.base + offset, count: length)
        offset += length
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a metadata value of GGUF type `type`; `depth` bounds nested arrays so hostile input cannot exhaust the stack.
    mutating func readValue(type: UInt32, key: String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case 0: return .unsigned(UInt64(try read(UInt8.self, key)))
        case 1: return .signed(Int64(try read(Int8.self, key)))
        case 2: return .unsigned(UInt64(try read(UInt16.self, key)))
        case 3: return .signed(Int64(try read(Int16.self, key)))
        case 4: return .unsigned(UInt64(try read(UInt32.self, key)))
        case 5: return .signed(Int64(try read(Int32.self, key)))
        case 6: return .float(Double(Float(bitPattern: try read(UInt32.self, key))))
        case 7: return .bool(try read(UInt8.self, key) != 0)
        case 8: return .string(try readString(key))
        case 9:
            guard depth < 4 else {
                throw ImportError.malformed(file: file.path, detail: "metadata '\(key)' nests arrays more than 4 deep")
            }
            let elementType = try read(UInt32.self, "element type of \(key)")
            let count = try readCount("element count of \(key)", minimumElementBytes: Self.minimumBytes(of: elementType))
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try readValue(type: elementType, key: key, depth: depth + 1)) }
            return .array(values)
        case 10: return .unsigned(try read(UInt64.self, key))
        case 11: return .signed(try read(Int64.self, key))
        case 12: return .float(Double(bitPattern: try read(UInt64.self, key)))
        default:
            throw ImportError.malformed(file: file.path, detail: "metadata '\(key)' has unknown value type \(type) at offset \(offset)")
        }
    }

    /// Smallest encoding of one value of `type`, used to bound element counts before allocating.
    private static func minimumBytes(of type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8: return 8
        case 9: return 12
        default: return 8
        }
    }

    mutating func align(to alignment: Int) {
        offset = (offset + alignment - 1) / alignment * alignment
    }
}
