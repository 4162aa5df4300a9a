/// Cuts a chat template into tokens exactly as Jinja's lexer does in Hugging Face's environment:
/// newlines normalised to `\n` and one trailing newline dropped, `trim_blocks` and `lstrip_blocks` on,
/// `-` stripping all whitespace on its side of a tag and `+` keeping it, `{% raw %}` passed through,
/// and a tag ending only where its brackets balance.
struct JinjaLexer {
    private let scalars: [Unicode.Scalar]
    private let lineStarts: [Int]
    private var tokens: [JinjaToken] = []
    private var index = 0
    /// Whether the previous match ended a line, which lets `lstrip_blocks` strip text with no newline in it.
    private var lineStarting = true

    private init(_ source: String) {
        scalars = Self.normalizedNewlines(source)
        var starts = [0]
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(offset + 1) }
        lineStarts = starts
    }

    /// The tokens of `source`, ending with `.end`.
    /// - Throws: `TokenizerError.chatTemplate(.syntax, …)` at the offending position.
    static func tokenize(_ source: String) throws -> [JinjaToken] {
        var lexer = JinjaLexer(source)
        try lexer.run()
        lexer.tokens.append(JinjaToken(kind: .end, position: lexer.position(of: lexer.scalars.count)))
        return lexer.tokens
    }

    /// `\r\n` and `\r` become `\n`; a final newline is dropped (Jinja's `keep_trailing_newline=False`).
    private static func normalizedNewlines(_ source: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(source.unicodeScalars.count)
        var previousWasReturn = false
        for scalar in source.unicodeScalars {
            if scalar == "\n" && previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = scalar == "\r"
            result.append(scalar == "\r" ? "\n" : scalar)
        }
        if result.last == "\n" { result.removeLast() }
        return result
    }

    func position(of offset: Int) -> TemplatePosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return TemplatePosition(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func syntaxError(_ message: String, at offset: Int) -> TokenizerError {
        .chatTemplate(.syntax, message: message, position: position(of: offset))
    }

    // MARK: - Text and tags

    private mutating func run() throws {
        while index < scalars.count {
            guard let tagStart = nextTagStart(from: index) else {
                emitData(index, scalars.count)
                return
            }
            let kind = scalars[tagStart + 1]
            let signOffset = tagStart + 2
            let sign: Unicode.Scalar? = signOffset < scalars.count && (scalars[signOffset] == "-" || scalars[signOffset] == "+")
                ? scalars[signOffset] : nil
            let rawBeginEnd = kind == "%" ? matchRawBegin(at: tagStart) : nil
            let textEnd = strippedTextEnd(from: index, to: tagStart, sign: sign, isVariable: kind == "{")
            emitData(index, textEnd)
            if let rawBeginEnd {
                try lexRaw(from: rawBeginEnd, openedAt: tagStart)
                continue
            }
            index = signOffset + (sign == nil ? 0 : 1)
            lineStarting = false
            switch kind {
            case "#": try skipComment(openedAt: tagStart)
            case "{": try lexTag(openedAt: tagStart, isBlock: false)
            default: try lexTag(openedAt: tagStart, isBlock: true)
            }
        }
    }

    private func nextTagStart(from start: Int) -> Int? {
        var offset = start
        while offset + 1 < scalars.count {
            if scalars[offset] == "{" {
                let next = scalars[offset + 1]
                if next == "{" || next == "%" || next == "#" { return offset }
            }
            offset += 1
        }
        return nil
    }

    private mutating func emitData(_ start: Int, _ end: Int) {
        guard end > start else { return }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<end])
        tokens.append(JinjaToken(kind: .data(String(text)), position: position(of: start)))
    }

    /// Where the text before a tag ends once whitespace control has been applied: `-` strips all trailing
    /// whitespace; otherwise, for block and comment tags not marked `+`, `lstrip_blocks` removes the
    /// indentation when only whitespace precedes the tag on its line.
    private func strippedTextEnd(from start: Int, to end: Int, sign: Unicode.Scalar?, isVariable: Bool) -> Int {
        if sign == "-" {
            var cut = end
            while cut > start, PythonText.isWhitespace(scalars[cut - 1]) { cut -= 1 }
            return cut
        }
        guard sign != "+", !isVariable else { return end }
        var lineStart = end
        while lineStart > start, scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        guard lineStart > start || lineStarting else { return end }
        guard lineStart < end, scalars[lineStart..<end].allSatisfy(PythonText.isWhitespace) else { return end }
        return lineStart
    }

    /// The end of `{% raw %}` (with optional `-`/`+` and `-%}` eating whitespace) when one starts at `offset`.
    private func matchRawBegin(at offset: Int) -> Int? {
        var cursor = offset + 2
        if cursor < scalars.count, scalars[cursor] == "-" || scalars[cursor] == "+" { cursor += 1 }
        cursor = skippingWhitespace(from: cursor)
        guard matches("raw", at: cursor) else { return nil }
        cursor = skippingWhitespace(from: cursor + 3)
        if matches("-%}", at: cursor) { return skippingWhitespace(from: cursor + 3) }
        if matches("%}", at: cursor) { return cursor + 2 }
        return nil
    }

    private mutating func lexRaw(from bodyStart: Int, openedAt tagStart: Int) throws {
        lineStarting = bodyStart > 0 && scalars[bodyStart - 1] == "\n"
        var search = bodyStart
        while let candidate = nextTagStart(from: search) {
            defer { search = candidate + 1 }
            guard scalars[candidate + 1] == "%" else { continue }
            var cursor = candidate + 2
            var sign: Unicode.Scalar?
            if cursor < scalars.count, scalars[cursor] == "-" || scalars[cursor] == "+" {
                sign = scalars[cursor]
                cursor += 1
            }
            cursor = skippingWhitespace(from: cursor)
            guard matches("endraw", at: cursor) else { continue }
            cursor = skippingWhitespace(from: cursor + 6)
            guard let end = blockEnd(at: cursor) else { continue }
            emitData(bodyStart, strippedTextEnd(from: bodyStart, to: candidate, sign: sign, isVariable: false))
            lineStarting = scalars[end - 1] == "\n"
            index = end
            return
        }
        throw syntaxError("missing end of raw directive ({% endraw %})", at: tagStart)
    }

    /// The end of `+%}`, `-%}` plus following whitespace, or `%}` plus one newline (`trim_blocks`) at `offset`.
    private func blockEnd(at offset: Int) -> Int? {
        if matches("+%}", at: offset) { return offset + 3 }
        if matches("-%}", at: offset) { return skippingWhitespace(from: offset + 3) }
        if matches("%}", at: offset) { return offset + 2 < scalars.count && scalars[offset + 2] == "\n" ? offset + 3 : offset + 2 }
        return nil
    }

    private mutating func skipComment(openedAt tagStart: Int) throws {
        var cursor = index
        while cursor < scalars.count {
            var end: Int?
            if matches("+#}", at: cursor) {
                end = cursor + 3
            } else if matches("-#}", at: cursor) {
                end = skippingWhitespace(from: cursor + 3)
            } else if matches("#}", at: cursor) {
                end = cursor + 2 < scalars.count && scalars[cursor + 2] == "\n" ? cursor + 3 : cursor + 2
            }
            if let end {
                lineStarting = scalars[end - 1] == "\n"
                index = end
                return
            }
            cursor += 1
        }
        throw syntaxError("missing end of comment tag ('#}')", at: tagStart)
    }

    // MARK: - Inside {{ }} and {% %}

    private mutating func lexTag(openedAt tagStart: Int, isBlock: Bool) throws {
        tokens.append(JinjaToken(kind: isBlock ? .blockBegin : .variableBegin, position: position(of: tagStart)))
        var brackets: [(close: Unicode.Scalar, offset: Int)] = []
        while true {
            if brackets.isEmpty, let end = isBlock ? blockEnd(at: index) : variableEnd(at: index) {
                tokens.append(JinjaToken(kind: isBlock ? .blockEnd : .variableEnd, position: position(of: index)))
                lineStarting = scalars[end - 1] == "\n"
                index = end
                return
            }
            guard index < scalars.count else {
                if let open = brackets.last {
                    throw syntaxError("'\(open.close == ")" ? "(" : open.close == "]" ? "[" : "{")' is never closed", at: open.offset)
                }
                throw syntaxError("unexpected end of template: the tag opened here is not closed with '\(isBlock ? "%}" : "}}")'", at: tagStart)
            }
            let scalar = scalars[index]
            if PythonText.isWhitespace(scalar) {
                index += 1
                continue
            }
            let start = index
            if let token = try lexNumber() {
                tokens.append(JinjaToken(kind: token, position: position(of: start)))
            } else if Self.isNameCharacter(scalar) {
                while index < scalars.count, Self.isNameCharacter(scalars[index]) { index += 1 }
                tokens.append(JinjaToken(kind: .name(String(String.UnicodeScalarView(scalars[start..<index]))), position: position(of: start)))
            } else if scalar == "'" || scalar == "\"" {
                tokens.append(JinjaToken(kind: .string(try lexString()), position: position(of: start)))
            } else if let symbol = lexSymbol() {
                switch symbol {
                case "(": brackets.append((")", start))
                case "[": brackets.append(("]", start))
                case "{": brackets.append(("}", start))
                case ")", "]", "}":
                    guard let open = brackets.popLast() else { throw syntaxError("unexpected '\(symbol)'", at: start) }
                    guard String(open.close) == symbol else {
                        throw syntaxError("unexpected '\(symbol)', expected '\(open.close)'", at: start)
                    }
                default: break
                }
                tokens.append(JinjaToken(kind: .symbol(symbol), position: position(of: start)))
            } else {
                throw syntaxError("unexpected character \(PythonText.repr(String(scalar)))", at: start)
            }
        }
    }

    private func variableEnd(at offset: Int) -> Int? {
        if matches("-}}", at: offset) { return skippingWhitespace(from: offset + 3) }
        if matches("}}", at: offset) { return offset + 2 }
        return nil
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || (scalar.isASCII ? (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
            : scalar.properties.isAlphabetic || scalar.properties.numericType != nil)
    }

    private static let symbols: [String] = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"]

    private mutating func lexSymbol() -> String? {
        for symbol in Self.symbols where matches(symbol, at: index) {
            index += symbol.unicodeScalars.count
            return symbol
        }
        return nil
    }

    /// Integer and float literals with Jinja's rules: `_` between digits, `0b`/`0o`/`0x` prefixes, and no
    /// float right after a `.` (so `items.0.1` is two lookups).
    private mutating func lexNumber() throws -> JinjaToken.Kind? {
        guard index < scalars.count, ("0"..."9").contains(scalars[index]) else { return nil }
        let start = index
        let afterDot = start > 0 && scalars[start - 1] == "."
        if !afterDot, let end = floatEnd(from: start) {
            let text = String(String.UnicodeScalarView(scalars[start..<end].filter { $0 != "_" }))
            guard let value = Double(text), value.isFinite else { throw syntaxError("float literal \(text) is out of range", at: start) }
            index = end
            return .float(value)
        }
        let (end, radix) = integerEnd(from: start)
        var digits = String(String.UnicodeScalarView(scalars[start..<end].filter { $0 != "_" }))
        if radix != 10 { digits.removeFirst(2) }
        guard let value = Int(digits, radix: radix) else {
            throw syntaxError("integer literal \(String(String.UnicodeScalarView(scalars[start..<end]))) does not fit in 64 bits", at: start)
        }
        index = end
        return .integer(value)
    }

    /// `(\d+_)*\d+` from `offset`: the end of the digit run, or nil when there is none.
    private func digitRunEnd(from offset: Int, digits: ClosedRange<Unicode.Scalar> = "0"..."9", allowLeadingUnderscore: Bool = false) -> Int? {
        var cursor = offset
        if allowLeadingUnderscore, cursor < scalars.count, scalars[cursor] == "_" { cursor += 1 }
        guard cursor < scalars.count, digits.contains(scalars[cursor]) else { return nil }
        while cursor < scalars.count {
            if digits.contains(scalars[cursor]) {
                cursor += 1
            } else if scalars[cursor] == "_", cursor + 1 < scalars.count, digits.contains(scalars[cursor + 1]) {
                cursor += 2
            } else {
                break
            }
        }
        return cursor
    }

    private func floatEnd(from start: Int) -> Int? {
        guard let mantissaEnd = digitRunEnd(from: start) else { return nil }
        var fractionEnd: Int?
        if mantissaEnd < scalars.count, scalars[mantissaEnd] == "." { fractionEnd = digitRunEnd(from: mantissaEnd + 1) }
        let exponentStart = fractionEnd ?? mantissaEnd
        if exponentStart < scalars.count, scalars[exponentStart] == "e" || scalars[exponentStart] == "E" {
            var cursor = exponentStart + 1
            if cursor < scalars.count, scalars[cursor] == "+" || scalars[cursor] == "-" { cursor += 1 }
            if let end = digitRunEnd(from: cursor) { return end }
        }
        return fractionEnd
    }

    private func integerEnd(from start: Int) -> (Int, Int) {
        if scalars[start] == "0", start + 1 < scalars.count {
            let prefixes: [(Unicode.Scalar, Int, ClosedRange<Unicode.Scalar>)] = [("b", 2, "0"..."1"), ("o", 8, "0"..."7"), ("x", 16, "0"..."9")]
            for (letter, radix, digits) in prefixes where scalars[start + 1].properties.lowercaseMapping == String(letter) {
                if radix == 16 {
                    var cursor = start + 2
                    var sawDigit = false
                    while cursor < scalars.count {
                        let scalar = scalars[cursor]
                        if scalar.properties.isASCIIHexDigit {
                            cursor += 1
                            sawDigit = true
                        } else if scalar == "_", cursor + 1 < scalars.count, scalars[cursor + 1].properties.isASCIIHexDigit {
                            cursor += 1
                        } else {
                            break
                        }
                    }
                    if sawDigit { return (cursor, 16) }
                } else if let end = digitRunEnd(from: start + 2, digits: digits, allowLeadingUnderscore: true) {
                    return (end, radix)
                }
            }
            var cursor = start + 1
            while cursor < scalars.count {
                if scalars[cursor] == "0" {
                    cursor += 1
                } else if scalars[cursor] == "_", cursor + 1 < scalars.count, scalars[cursor + 1] == "0" {
                    cursor += 2
                } else {
                    break
                }
            }
            return (cursor, 10)
        }
        return (digitRunEnd(from: start) ?? start + 1, 10)
    }

    /// A quoted string with Python's escapes (`\n`, `\t`, `\xhh`, `\uXXXX`, octal, …); unknown escapes keep
    /// their backslash, as Python's `unicode-escape` codec does.
    private mutating func lexString() throws -> String {
        let quote = scalars[index]
        let start = index
        index += 1
        var result = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == quote {
                index += 1
                return String(result)
            }
            if scalar == "\\", index + 1 < scalars.count {
                index += 1
                try appendEscape(to: &result, stringStart: start)
            } else {
                result.append(scalar)
                index += 1
            }
        }
        throw syntaxError("unterminated string literal", at: start)
    }

    private mutating func appendEscape(to result: inout String.UnicodeScalarView, stringStart: Int) throws {
        let escape = scalars[index]
        index += 1
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "n": "\n", "r": "\r", "t": "\t", "v": "\u{0B}",
        ]
        if let replacement = simple[escape] {
            result.append(replacement)
            return
        }
        switch escape {
        case "\n":
            return
        case "0"..."7":
            var value = escape.value - 48
            for _ in 0..<2 {
                guard index < scalars.count, ("0"..."7").contains(scalars[index]) else { break }
                value = value * 8 + scalars[index].value - 48
                index += 1
            }
            result.append(Unicode.Scalar(value)!)
        case "x", "u", "U":
            let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
            guard index + count <= scalars.count, scalars[index..<index + count].allSatisfy(\.properties.isASCIIHexDigit) else {
                throw syntaxError("truncated \\\(escape) escape in string literal", at: index - 2)
            }
            let value = UInt32(String(String.UnicodeScalarView(scalars[index..<index + count])), radix: 16)!
            guard let scalar = Unicode.Scalar(value) else {
                throw syntaxError("\\\(escape) escape \(String(value, radix: 16)) is not a Unicode character wstream can hold", at: index - 2)
            }
            index += count
            result.append(scalar)
        case "N":
            throw JinjaFailure.unsupported("\\N{…} escapes in string literals", at: position(of: index - 2))
        default:
            result.append("\\")
            result.append(escape)
        }
    }

    // MARK: - Matching

    private func matches(_ literal: String, at offset: Int) -> Bool {
        var cursor = offset
        for scalar in literal.unicodeScalars {
            guard cursor < scalars.count, scalars[cursor] == scalar else { return false }
            cursor += 1
        }
        return true
    }

    private func skippingWhitespace(from offset: Int) -> Int {
        var cursor = offset
        while cursor < scalars.count, PythonText.isWhitespace(scalars[cursor]) { cursor += 1 }
        return cursor
    }
}
