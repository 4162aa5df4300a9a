/// Byte strings by id, stored back to back in one buffer.
///
/// A 128k-token vocabulary as 128k separate arrays costs an allocation and a header each; one buffer
/// with offsets builds faster and is smaller.
struct TokenStrings: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int] = [0]

    var count: Int { offsets.count - 1 }

    subscript(id: Int) -> ArraySlice<UInt8> { bytes[offsets[id]..<offsets[id + 1]] }

    mutating func append<S: Sequence<UInt8>>(_ string: S) {
        bytes.append(contentsOf: string)
        offsets.append(bytes.count)
    }
}

/// Ids by byte string: an open-addressing hash table over `TokenStrings`, looked up without allocating.
///
/// Lookups compare bytes, never `String`s: `String` equality is canonical equivalence, which would make
/// vocabulary entries such as "é" (precomposed) and "e\u{301}" collide.
struct VocabularyIndex: Sendable {
    private let strings: TokenStrings
    /// Token ids, -1 for empty slots; the size is a power of two at least twice the number of entries.
    private let slots: [Int32]

    /// Indexes the ids for which `include` holds; of two equal strings the lower id wins.
    init(_ strings: TokenStrings, including include: (Int) -> Bool = { _ in true }) {
        self.strings = strings
        var capacity = 16
        while capacity < strings.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        strings.bytes.withUnsafeBufferPointer { all in
            for id in 0..<strings.count where include(id) {
                let text = UnsafeBufferPointer(rebasing: all[strings.offsets[id]..<strings.offsets[id + 1]])
                var slot = Self.hash(text) & mask
                while slots[slot] >= 0 {
                    if Self.equal(all, strings, Int(slots[slot]), text) { break }
                    slot = (slot + 1) & mask
                }
                if slots[slot] < 0 { slots[slot] = Int32(id) }
            }
        }
        self.slots = slots
    }

    /// The id of `text`, or nil.
    func id(_ text: UnsafeBufferPointer<UInt8>) -> Int32? {
        let mask = slots.count - 1
        return strings.bytes.withUnsafeBufferPointer { all in
            var slot = Self.hash(text) & mask
            while slots[slot] >= 0 {
                if Self.equal(all, strings, Int(slots[slot]), text) { return slots[slot] }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    func id(_ text: ArraySlice<UInt8>) -> Int32? { text.withUnsafeBufferPointer { id($0) } }
    func id(_ text: [UInt8]) -> Int32? { text.withUnsafeBufferPointer { id($0) } }

    /// FNV-1a: fast on the short strings tokens are. (Plain index loops: the tests run unoptimised.)
    private static func hash(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index < text.count {
            hash = (hash ^ UInt64(text[index])) &* 0x100_0000_01b3
            index += 1
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    private static func equal(
        _ all: UnsafeBufferPointer<UInt8>, _ strings: TokenStrings, _ id: Int, _ text: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        let start = strings.offsets[id]
        guard strings.offsets[id + 1] - start == text.count else { return false }
        var index = 0
        while index < text.count {
            if all[start + index] != text[index] { return false }
            index += 1
        }
        return true
    }
}
