/// Bytes as a dictionary key (the per-call cache of encoded ByteLevel words).
struct ByteString: Hashable, Sendable {
    var bytes: [UInt8]

    init<S: Sequence<UInt8>>(_ bytes: S) { self.bytes = Array(bytes) }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
