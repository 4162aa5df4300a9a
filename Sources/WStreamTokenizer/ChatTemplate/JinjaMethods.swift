/// The Python string and dictionary methods templates call (`message['content'].strip()`, `x.items()`, …).
enum JinjaMethods {
    static func call(_ method: String, on value: JinjaValue, _ arguments: [JinjaValue]) throws -> JinjaValue {
        switch (value, method) {
        case (.string(let text), "strip"): return .string(strip(text, arguments.first?.text))
        case (.string(let text), "lstrip"): return .string(strip(text, arguments.first?.text, trailing: false))
        case (.string(let text), "rstrip"): return .string(strip(text, arguments.first?.text, leading: false))
        case (.string(let text), "upper"): return .string(text.uppercased())
        case (.string(let text), "lower"): return .string(text.lowercased())
        case (.string(let text), "capitalize"): return .string(text.prefix(1).uppercased() + text.dropFirst().lowercased())
        case (.string(let text), "title"):
            return .string(text.split(separator: " ", omittingEmptySubsequences: false)
                .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: " "))
        case (.string(let text), "startswith"): return .boolean(candidates(arguments).contains { text.hasPrefix($0) })
        case (.string(let text), "endswith"): return .boolean(candidates(arguments).contains { text.hasSuffix($0) })
        case (.string(let text), "replace") where arguments.count >= 2:
            return .string(text.replacing(arguments[0].text, with: arguments[1].text))
        case (.string(let text), "split"):
            if let separator = arguments.first?.text {
                return .list(text.split(separator: separator, omittingEmptySubsequences: false).map { .string(String($0)) })
            }
            return .list(text.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        case (.dictionary(let items), "items"): return .list(items.map { .list([.string($0.0), $0.1]) })
        case (.dictionary(let items), "keys"): return .list(items.map { .string($0.0) })
        case (.dictionary(let items), "values"): return .list(items.map(\.1))
        case (.dictionary, "get"):
            let found = value.member(arguments.first?.text ?? "")
            if case .undefined = found { return arguments.count > 1 ? arguments[1] : .none }
            return found
        default:
            throw TokenizerError.chatTemplateEvaluation(message: "unsupported method .\(method)() on \(value.representation)")
        }
    }

    /// A string argument, or each string of a list/tuple argument (`startswith(('a', 'b'))`).
    private static func candidates(_ arguments: [JinjaValue]) -> [String] {
        guard let first = arguments.first else { return [] }
        if case .list(let items) = first { return items.map(\.text) }
        return [first.text]
    }

    /// Python's `str.strip([chars])`.
    static func strip(_ text: String, _ characters: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let remove: (Character) -> Bool = characters.map { set in { set.contains($0) } } ?? { $0.isWhitespace }
        var result = Substring(text)
        if leading { result = result.drop(while: remove) }
        if trailing { while let last = result.last, remove(last) { result = result.dropLast() } }
        return String(result)
    }
}
