/// A JSON-like value handed to a chat template: the messages, `tools`, and extra variables such as
/// `enable_thinking` or `documents`.
///
/// Objects keep their keys in order, as Python dictionaries do, because `tojson` and loops over
/// `items()` print them in that order. Build values from JSON text with `init(json:)` (Foundation's
/// `JSONDecoder` does not preserve key order) or from Swift literals:
/// ```swift
/// let tool: TemplateValue = ["type": "function", "function": ["name": "get_weather", "parameters": [:]]]
/// ```
public enum TemplateValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    /// Members in their original order; a key appears at most once.
    case object([Member])

    /// One key of an object and its value.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: TemplateValue

        public init(_ key: String, _ value: TemplateValue) {
            self.key = key
            self.value = value
        }
    }

    /// Parses JSON text (RFC 8259), keeping object keys in order; a repeated key keeps its first
    /// position and its last value, as Python's `json.loads` does.
    /// - Parameters:
    ///   - json: the text.
    ///   - maxDepth: how deeply arrays and objects may nest.
    /// - Throws: `TokenizerError.invalidJSON` naming the line, column and problem.
    public init(json: String, maxDepth: Int = TemplateLimits().maxNesting) throws {
        var parser = TemplateJSONParser(json, maxDepth: maxDepth)
        self = try parser.parseDocument()
    }

    /// The value under `key` when this is an object.
    public subscript(key: String) -> TemplateValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The text when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as compact JSON (keys in order, non-ASCII characters as they are, numbers as Python prints them).
    public var jsonText: String {
        switch self {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): PythonJSON.number(number)
        case .string(let text): PythonJSON.quoted(text)
        case .array(let elements): "[" + elements.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members): "{" + members.map { PythonJSON.quoted($0.key) + ":" + $0.value.jsonText }.joined(separator: ",") + "}"
        }
    }

    /// The elements when this is an array.
    public var arrayValue: [TemplateValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    /// Keys in the order written.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(elements.map { Member($0.0, $0.1) })
    }
}
