/// Python's `str()` and `repr()` of template values, and the character classes Python's string
/// methods use, so that `{{ value }}` prints what transformers prints.
enum PythonText {
    /// Printing recursion is bounded even for namespaces that contain themselves.
    static let maxPrintDepth = 256

    /// `str.isspace()` for one character (also what `\s` matches in Jinja's lexer).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// `str.splitlines()` boundaries.
    static func isLineBoundary(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x1C...0x1E, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    /// `str.isprintable()` for one character: what `repr` leaves unescaped.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator: return false
        default: return true
        }
    }

    /// `str(value)`: what `{{ value }}` prints.
    /// - Parameter maxBytes: the longest text allowed; a longer one fails while it is being built.
    /// - Throws: a limit error beyond `maxBytes`; an unsupported error for values Python prints as an object
    ///   address (iterators, macros, methods), which would never be a meaningful prompt.
    static func str(_ value: JinjaValue, maxBytes: Int) throws -> String {
        switch value {
        case .undefined: return ""
        case .string(let text), .markup(let text): return text
        default: return try repr(value, maxBytes: maxBytes)
        }
    }

    /// `repr(value)`, as lists and dictionaries print their elements.
    static func repr(_ value: JinjaValue, maxBytes: Int) throws -> String {
        var output = ""
        try writeRepr(value, into: &output, depth: 0, maxBytes: maxBytes)
        return output
    }

    /// `repr(value)` cut to a couple of hundred bytes, for error messages.
    static func shortRepr(_ value: JinjaValue) -> String {
        let limit = 200
        return (try? repr(value, maxBytes: limit)) ?? "\(value.typeName) object"
    }

    private static func writeRepr(_ value: JinjaValue, into output: inout String, depth: Int, maxBytes: Int) throws {
        guard depth < maxPrintDepth else { throw JinjaFailure.limit("a value nests too deeply to print") }
        func append(_ text: String) throws {
            output += text
            guard output.utf8.count <= maxBytes else { throw JinjaFailure.limit("a string longer than \(maxBytes) bytes") }
        }
        func elements(_ items: [JinjaValue], open: String, close: String) throws {
            try append(open)
            for (offset, item) in items.enumerated() {
                if offset > 0 { try append(", ") }
                try writeRepr(item, into: &output, depth: depth + 1, maxBytes: maxBytes)
            }
            try append(close)
        }
        switch value {
        case .undefined: try append("Undefined")
        case .none: try append("None")
        case .boolean(let flag): try append(flag ? "True" : "False")
        case .integer(let number): try append(String(number))
        case .float(let number): try append(float(number))
        case .string(let text): try append(repr(text))
        case .markup(let text): try append("Markup(" + repr(text) + ")")
        case .list(let sequence): try elements(sequence.items, open: "[", close: "]")
        case .tuple(let sequence): try elements(sequence.items, open: "(", close: sequence.items.count == 1 ? ",)" : ")")
        case .dictionary(let dictionary): try writeDictionary(dictionary, into: &output, depth: depth, maxBytes: maxBytes)
        case .namespace(let namespace):
            try append("<Namespace ")
            try writeDictionary(namespace.attributes, into: &output, depth: depth, maxBytes: maxBytes)
            try append(">")
        case .range(let range):
            try append("range(\(range.start), \(range.stop)" + (range.step == 1 ? ")" : ", \(range.step))"))
        case .view(let view): try elements(view.elements, open: view.typeName + "([", close: "])")
        case .iterator, .callable, .loop:
            throw JinjaFailure.unsupported(
                "printing a \(value.typeName) object (Python prints its memory address; convert it with |list or |string first)", at: nil)
        }
    }

    private static func writeDictionary(_ dictionary: JinjaDictionary, into output: inout String, depth: Int, maxBytes: Int) throws {
        output += "{"
        for (offset, (key, value)) in zip(dictionary.keys, dictionary.values).enumerated() {
            if offset > 0 { output += ", " }
            try writeRepr(key, into: &output, depth: depth + 1, maxBytes: maxBytes)
            output += ": "
            try writeRepr(value, into: &output, depth: depth + 1, maxBytes: maxBytes)
        }
        output += "}"
    }

    /// `float.__repr__`: the shortest text that reads back as the same double (Swift's `description`
    /// follows the same rules: exponent form below 1e-4 and from 1e16, `inf`, `nan`).
    static func float(_ number: Double) -> String { number.description }

    /// `repr(text)`: single quotes unless the text has a single quote and no double quote; backslash
    /// escapes for the quote, backslash, `\t \n \r` and non-printable characters.
    static func repr(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let quote: Unicode.Scalar = scalars.contains("'") && !scalars.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView()
        result.append(quote)
        for scalar in scalars {
            switch scalar {
            case quote, "\\":
                result.append("\\")
                result.append(scalar)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            default:
                if scalar.value < 0x7F ? scalar.value >= 0x20 : isPrintable(scalar) {
                    result.append(scalar)
                } else {
                    let (prefix, width) = scalar.value < 0x100 ? ("\\x", 2) : scalar.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    let hex = String(scalar.value, radix: 16)
                    result.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        result.append(quote)
        return String(result)
    }

    /// `markupsafe.escape`: `& < > " '` as HTML entities.
    static func escapeHTML(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
