/// Cuts a Jinja template into text, `{{ … }}` and `{% … %}` parts, applying whitespace control the way
/// Hugging Face renders chat templates (`trim_blocks` and `lstrip_blocks` on, `-` strips, `+` keeps).
struct JinjaLexer {
    enum Token: Equatable {
        case name(String)
        case string(String)
        case integer(Int)
        case number(Double)
        case symbol(String)
    }

    enum Part: Equatable {
        case text(String)
        case output([Token])
        case statement([Token])
    }

    private let bytes: [UInt8]

    init(_ source: String) { bytes = Array(source.utf8) }

    func parts() throws -> [Part] {
        var parts: [Part] = []
        var index = 0
        var stripLeading = false
        var dropNewline = false
        while index < bytes.count {
            let open = nextTag(from: index)
            let raw = bytes[index..<open]
            var text = Array(raw)
            if stripLeading {
                text = Array(text.drop(while: Self.isWhitespace))
            } else if dropNewline {
                if text.first == UInt8(ascii: "\n") { text.removeFirst() }
                else if text.starts(with: [UInt8(ascii: "\r"), UInt8(ascii: "\n")]) { text.removeFirst(2) }
            }
            guard open < bytes.count else {
                parts.append(.text(String(decoding: text, as: UTF8.self)))
                break
            }
            let kind = bytes[open + 1]
            var start = open + 2
            let modifier = start < bytes.count ? bytes[start] : 0
            if modifier == UInt8(ascii: "-") || modifier == UInt8(ascii: "+") { start += 1 }
            if modifier == UInt8(ascii: "-") {
                while let last = text.last, Self.isWhitespace(last) { text.removeLast() }
            } else if kind != UInt8(ascii: "{"), modifier != UInt8(ascii: "+") {
                // lstrip_blocks: a block tag alone at the start of its line takes the indentation with it
                // (judged on the source, before the newline after a previous tag was dropped).
                let lineStart = raw.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? (index == 0 ? index : nil)
                if let lineStart, raw[lineStart...].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                    text.removeLast(min(text.count, open - lineStart))
                }
            }
            if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))) }

            let close: [UInt8] = kind == UInt8(ascii: "{") ? Array("}}".utf8) : kind == UInt8(ascii: "%") ? Array("%}".utf8) : Array("#}".utf8)
            guard let end = closing(close, from: start, skippingStrings: kind != UInt8(ascii: "#")) else {
                throw TokenizerError.chatTemplateSyntax(message: "unclosed tag", offset: open)
            }
            var inner = Array(bytes[start..<end])
            stripLeading = inner.last == UInt8(ascii: "-")
            let keep = inner.last == UInt8(ascii: "+")
            if stripLeading || keep { inner.removeLast() }
            dropNewline = kind != UInt8(ascii: "{") && !keep
            switch kind {
            case UInt8(ascii: "{"): parts.append(.output(try tokens(inner, offset: start)))
            case UInt8(ascii: "%"): parts.append(.statement(try tokens(inner, offset: start)))
            default: break
            }
            index = end + 2
        }
        return parts
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func nextTag(from start: Int) -> Int {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "{"),
                [UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "#")].contains(bytes[index + 1])
            {
                return index
            }
            index += 1
        }
        return bytes.count
    }

    private func closing(_ close: [UInt8], from start: Int, skippingStrings: Bool) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            let byte = bytes[index]
            if skippingStrings, byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                index += 1
                while index < bytes.count, bytes[index] != byte {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
            } else if byte == close[0], bytes[index + 1] == close[1] {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The tokens of one tag's contents.
    private func tokens(_ text: [UInt8], offset: Int) throws -> [Token] {
        var result: [Token] = []
        var index = 0
        func isNameByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
        while index < text.count {
            let byte = text[index]
            if Self.isWhitespace(byte) {
                index += 1
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                var value: [UInt8] = []
                index += 1
                while index < text.count, text[index] != byte {
                    if text[index] == UInt8(ascii: "\\"), index + 1 < text.count {
                        index += 1
                        switch text[index] {
                        case UInt8(ascii: "n"): value.append(0x0A)
                        case UInt8(ascii: "t"): value.append(0x09)
                        case UInt8(ascii: "r"): value.append(0x0D)
                        default: value.append(text[index])
                        }
                    } else {
                        value.append(text[index])
                    }
                    index += 1
                }
                guard index < text.count else {
                    throw TokenizerError.chatTemplateSyntax(message: "unterminated string", offset: offset + index)
                }
                index += 1
                result.append(.string(String(decoding: value, as: UTF8.self)))
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let start = index
                while index < text.count, (text[index] >= UInt8(ascii: "0") && text[index] <= UInt8(ascii: "9")) || text[index] == UInt8(ascii: ".") {
                    index += 1
                }
                let literal = String(decoding: text[start..<index], as: UTF8.self)
                if let value = Int(literal) { result.append(.integer(value)) }
                else if let value = Double(literal) { result.append(.number(value)) }
                else { throw TokenizerError.chatTemplateSyntax(message: "bad number \(literal)", offset: offset + start) }
            } else if isNameByte(byte) {
                let start = index
                while index < text.count, isNameByte(text[index]) { index += 1 }
                result.append(.name(String(decoding: text[start..<index], as: UTF8.self)))
            } else {
                let two = index + 1 < text.count ? String(decoding: text[index...(index + 1)], as: UTF8.self) : ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    result.append(.symbol(two))
                    index += 2
                } else if Array("+-*/%~|.,:()[]{}=<>!".utf8).contains(byte) {
                    result.append(.symbol(String(UnicodeScalar(byte))))
                    index += 1
                } else {
                    throw TokenizerError.chatTemplateSyntax(
                        message: "unexpected character \(String(UnicodeScalar(byte)).debugDescription)", offset: offset + index)
                }
            }
        }
        return result
    }
}
