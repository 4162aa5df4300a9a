/// Hand-assembled JSON, so that files come out in a fixed key order (byte-identical for a given shape and seed).
enum JSONText {
    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// An object from already-encoded values, in the given order, one key per line.
    static func object(_ members: [(String, String)], indent: String = "") -> String {
        let inner = indent + "  "
        let body = members.map { "\(inner)\(quoted($0.0)): \($0.1)" }.joined(separator: ",\n")
        return "{\n\(body)\n\(indent)}"
    }
}
