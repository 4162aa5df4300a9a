/// One message of a conversation as a chat template sees it: an object with `role` and `content` and
/// whatever else the message carries (`tool_calls`, `tool_call_id`, `name`, `reasoning_content`, …),
/// fields kept in their order.
public struct ChatMessage: Sendable, Equatable {
    /// Every field, in order.
    public private(set) var fields: [TemplateValue.Member]

    /// A plain text turn.
    public init(role: String, content: String) {
        fields = [.init("role", .string(role)), .init("content", .string(content))]
    }

    /// A turn with structured content (a list of `{"type": "text", "text": …}` parts, or `nil`) and
    /// further fields such as `tool_calls`.
    public init(role: String, content: TemplateValue, fields extra: [TemplateValue.Member] = []) {
        fields = [.init("role", .string(role)), .init("content", content)]
        for member in extra { self[member.key] = member.value }
    }

    /// A message decoded from JSON, taken as it is (as transformers takes any dictionary).
    /// - Throws: `TokenizerError.invalidChatMessage` when `value` is not an object.
    public init(_ value: TemplateValue, index: Int = 0) throws {
        guard case .object(let members) = value else {
            throw TokenizerError.invalidChatMessage(index: index, reason: "a message must be a JSON object, not \(value.kindName)")
        }
        fields = members
    }

    /// The messages of a JSON array.
    /// - Throws: `TokenizerError.invalidChatMessage` naming the first element that is not an object.
    public static func messages(from value: TemplateValue) throws -> [ChatMessage] {
        guard case .array(let elements) = value else {
            throw TokenizerError.invalidChatMessage(index: 0, reason: "messages must be a JSON array, not \(value.kindName)")
        }
        return try elements.enumerated().map { try ChatMessage($1, index: $0) }
    }

    /// `role` as text ("" when the message has none or it is not a string).
    public var role: String { self["role"]?.stringValue ?? "" }

    /// `content`: text, a list of parts, or `.null`.
    public var content: TemplateValue { self["content"] ?? .null }

    /// A field by name; setting a new one appends it, setting nil removes it.
    public subscript(key: String) -> TemplateValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            let position = fields.firstIndex { $0.key == key }
            switch (position, newValue) {
            case let (position?, value?): fields[position].value = value
            case let (position?, nil): fields.remove(at: position)
            case let (nil, value?): fields.append(.init(key, value))
            case (nil, nil): break
            }
        }
    }

    /// The message as an object value.
    public var value: TemplateValue { .object(fields) }
}

extension TemplateValue {
    /// How error messages name the kind of value.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
