/// Python's `json.dumps` as transformers' `tojson` filter calls it (`ensure_ascii`, `indent`,
/// `separators`, `sort_keys`), byte for byte: separators `", "` and `": "` (`","` when indenting),
/// floats as `repr`, `NaN`/`Infinity`, no HTML escaping.
struct PythonJSON {
    var ensureASCII = false
    /// nil: everything on one line; otherwise each element on its own line behind this much indentation per level.
    var indent: String?
    var itemSeparator: String
    var keySeparator = ": "
    var sortKeys = false
    /// The longest text allowed; a longer one fails while it is being written.
    var maxBytes = Int.max

    init(ensureASCII: Bool, indent: String?, separators: (String, String)?, sortKeys: Bool, maxBytes: Int = .max) {
        self.maxBytes = maxBytes
        self.ensureASCII = ensureASCII
        self.indent = indent
        self.sortKeys = sortKeys
        itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
        if let separators { keySeparator = separators.1 }
    }

    func dumps(_ value: JinjaValue) throws -> String {
        var output = ""
        try write(value, level: 0, into: &output)
        return output
    }

    private func write(_ value: JinjaValue, level: Int, into output: inout String) throws {
        guard level < PythonText.maxPrintDepth else { throw JinjaFailure.render("Circular reference detected") }
        switch value {
        case .none: output += "null"
        case .boolean(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .float(let number): output += Self.number(number)
        case .string(let text), .markup(let text): writeString(text, into: &output)
        case .list(let sequence), .tuple(let sequence):
            try writeContainer(sequence.items, open: "[", close: "]", level: level, into: &output) { element, output in
                try write(element, level: level + 1, into: &output)
            }
        case .dictionary(let dictionary):
            var pairs = Array(zip(dictionary.keys, dictionary.values))
            if sortKeys {
                pairs = try PythonOperators.sorted(pairs, by: { $0.0 }, reverse: false)
            }
            let keyTexts = try pairs.map { try Self.key($0.0) }
            var offset = 0
            try writeContainer(pairs, open: "{", close: "}", level: level, into: &output) { pair, output in
                writeString(keyTexts[offset], into: &output)
                offset += 1
                output += keySeparator
                try write(pair.1, level: level + 1, into: &output)
            }
        default:
            throw JinjaFailure.render("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private func writeContainer<Element>(
        _ elements: [Element], open: String, close: String, level: Int, into output: inout String,
        _ writeElement: (Element, inout String) throws -> Void
    ) throws {
        guard !elements.isEmpty else {
            output += open + close
            return
        }
        output += open
        let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        if let newline { output += newline }
        for (offset, element) in elements.enumerated() {
            if offset > 0 { output += itemSeparator + (newline ?? "") }
            try writeElement(element, &output)
            try PythonOperators.checkLength(output.utf8.count, maxBytes: maxBytes)
        }
        if let indent { output += "\n" + String(repeating: indent, count: level) }
        output += close
    }

    /// `float.__repr__`, with JavaScript's names for the non-finite values.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return PythonText.float(value)
    }

    /// Object keys: strings as they are; numbers, booleans and None converted as Python's encoder does.
    private static func key(_ key: JinjaValue) throws -> String {
        switch key {
        case .string(let text), .markup(let text): return text
        case .float(let number): return number.isFinite ? PythonText.float(number) : self.number(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .none: return "null"
        default: throw JinjaFailure.render("keys must be str, int, float, bool or None, not \(key.typeName)")
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String, ensureASCII: Bool = false) -> String {
        var output = ""
        PythonJSON(ensureASCII: ensureASCII, indent: nil, separators: nil, sortKeys: false).writeString(text, into: &output)
        return output
    }

    private func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += Self.unicodeEscape(0xD800 + (offset >> 10)) + Self.unicodeEscape(0xDC00 + (offset & 0x3FF))
                    } else {
                        output += Self.unicodeEscape(scalar.value)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
