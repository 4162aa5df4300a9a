/// A value while a chat template renders.
enum JinjaValue {
    case undefined
    case none
    case boolean(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case list([JinjaValue])
    /// Keys in insertion order, as Python dictionaries keep them.
    case dictionary([(String, JinjaValue)])
    case namespace(JinjaNamespace)

    var isTrue: Bool {
        switch self {
        case .undefined, .none: false
        case .boolean(let value): value
        case .integer(let value): value != 0
        case .number(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let value): !value.isEmpty
        case .dictionary(let value): !value.isEmpty
        case .namespace: true
        }
    }

    /// Python's `str()`, which `{{ }}` and `~` use; undefined renders as nothing.
    var text: String {
        switch self {
        case .undefined: ""
        case .string(let value): value
        default: representation
        }
    }

    /// Python's `repr()`, used inside lists and dictionaries.
    var representation: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .boolean(let value): value ? "True" : "False"
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
        case .list(let items): "[" + items.map(\.representation).joined(separator: ", ") + "]"
        case .dictionary(let items): "{" + items.map { "'\($0.0)': \($0.1.representation)" }.joined(separator: ", ") + "}"
        case .namespace: "<Namespace>"
        }
    }

    /// `json.dumps(value, ensure_ascii=False)`, which Hugging Face's `tojson` filter uses.
    var json: String {
        switch self {
        case .undefined, .none: "null"
        case .boolean(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): Self.jsonString(value)
        case .list(let items): "[" + items.map(\.json).joined(separator: ", ") + "]"
        case .dictionary(let items): "{" + items.map { Self.jsonString($0.0) + ": " + $0.1.json }.joined(separator: ", ") + "}"
        case .namespace(let namespace): JinjaValue.dictionary(namespace.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).json
        }
    }

    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func == (left: JinjaValue, right: JinjaValue) -> Bool {
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): true
        case let (.boolean(a), .boolean(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.integer(a), .number(b)): Double(a) == b
        case let (.number(a), .integer(b)): a == Double(b)
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): Array(a.unicodeScalars) == Array(b.unicodeScalars)
        case let (.list(a), .list(b)): a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.dictionary(a), .dictionary(b)):
            a.count == b.count && a.allSatisfy { entry in b.contains { $0.0 == entry.0 && $0.1 == entry.1 } }
        case let (.namespace(a), .namespace(b)): a === b
        default: false
        }
    }

    /// The value under `key` of a dictionary or namespace.
    func member(_ key: String) -> JinjaValue {
        switch self {
        case .dictionary(let items): items.first { $0.0 == key }?.1 ?? .undefined
        case .namespace(let namespace): namespace.values[key] ?? .undefined
        default: .undefined
        }
    }
}

/// `namespace(…)`: the one mutable object templates have, so that a loop can set a value seen after it.
final class JinjaNamespace {
    var values: [String: JinjaValue]
    init(_ values: [String: JinjaValue]) { self.values = values }
}
