import WStreamImport

/// Hand-assembled JSON, so that files come out in a fixed key order (byte-identical for a given shape and seed).
enum JSONText {
    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String { JSONString.quoted(text) }

    /// An object from already-encoded values, in the given order, one key per line.
    static func object(_ members: [(String, String)], indent: String = "") -> String {
        let inner = indent + "  "
        let body = members.map { "\(inner)\(quoted($0.0)): \($0.1)" }.joined(separator: ",\n")
        return "{\n\(body)\n\(indent)}"
    }
}
