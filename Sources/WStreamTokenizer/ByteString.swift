/// UTF-8 (or raw) bytes as a dictionary key.
///
/// Token texts are compared byte for byte: `String` equality is canonical equivalence, which would make
/// vocabulary entries such as "é" (precomposed) and "e\u{301}" collide.
struct ByteString: Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init<S: Sequence<UInt8>>(_ bytes: S) { self.bytes = Array(bytes) }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
