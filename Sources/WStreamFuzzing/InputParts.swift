/// An input cut at its first NUL byte into two files: the text formats fuzzed here (JSON, Jinja) never hold one,
/// so the first part is a whole text file and the rest, when there is a NUL, a second file of any bytes.
struct InputParts {
    let first: UnsafeRawBufferPointer
    /// The bytes after the NUL, or nil when the input has none.
    let rest: UnsafeRawBufferPointer?

    init(_ input: UnsafeRawBufferPointer) {
        if let separator = input.firstIndex(of: 0) {
            first = UnsafeRawBufferPointer(rebasing: input[..<separator])
            rest = UnsafeRawBufferPointer(rebasing: input[(separator + 1)...])
        } else {
            first = input
            rest = nil
        }
    }

    /// The bytes of an input made of `first`, a NUL, then `rest`.
    static func join(_ first: [UInt8], _ rest: [UInt8]?) -> [UInt8] {
        guard let rest else { return first }
        return first + [0] + rest
    }
}
