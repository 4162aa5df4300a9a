#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's two string-formatting languages: `str.format` (`'{}'.format(x)`, `'{name:>8}'`) and
/// printf-style `'%s' % x` (also the `|format` filter). Specifiers outside the common subset fail as
/// unsupported rather than print something different from Python.
enum PythonFormat {
    // MARK: - str.format

    /// `template.format(*positional, **keywords)`; `lookup(value, key)` resolves `.attr` and `[key]` in field names.
    /// With `escapingFields` (markupsafe's `Markup.format`) each field's text is HTML-escaped unless its value is markup.
    static func format(
        _ template: String, positional: [JinjaValue], keywords: JinjaDictionary, escapingFields: Bool = false, maxBytes: Int,
        lookup: (JinjaValue, JinjaValue, _ isAttribute: Bool) throws -> JinjaValue
    ) throws -> String {
        let scalars = Array(template.unicodeScalars)
        var result = ""
        var index = 0
        var automatic: Int?
        var manual = false
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "}" {
                guard index + 1 < scalars.count, scalars[index + 1] == "}" else {
                    throw JinjaFailure.render("Single '}' encountered in format string")
                }
                result += "}"
                index += 2
                continue
            }
            guard scalar == "{" else {
                result.unicodeScalars.append(scalar)
                index += 1
                continue
            }
            if index + 1 < scalars.count, scalars[index + 1] == "{" {
                result += "{"
                index += 2
                continue
            }
            var end = index + 1
            var nesting = 0
            while end < scalars.count, !(scalars[end] == "}" && nesting == 0) {
                if scalars[end] == "{" { nesting += 1 }
                if scalars[end] == "}" { nesting -= 1 }
                end += 1
            }
            guard end < scalars.count else { throw JinjaFailure.render("Single '{' encountered in format string") }
            let field = PythonString.string(scalars[(index + 1)..<end])
            index = end + 1
            guard !field.contains("{") else { throw JinjaFailure.unsupported("nested replacement fields in str.format", at: nil) }
            let (path, conversion, spec) = splitField(field)
            var name = path
            var value: JinjaValue
            let firstPart = name.prefix { $0 != "." && $0 != "[" }
            name.removeFirst(firstPart.count)
            if firstPart.isEmpty {
                guard !manual else {
                    throw JinjaFailure.render("cannot switch from manual field specification to automatic field numbering")
                }
                let position = automatic ?? 0
                automatic = position + 1
                guard position < positional.count else { throw JinjaFailure.render("Replacement index \(position) out of range for positional args tuple") }
                value = positional[position]
            } else if let position = Int(firstPart) {
                guard automatic == nil else {
                    throw JinjaFailure.render("cannot switch from automatic field numbering to manual field specification")
                }
                manual = true
                guard position < positional.count else { throw JinjaFailure.render("Replacement index \(position) out of range for positional args tuple") }
                value = positional[position]
            } else {
                guard let named = keywords.value(forString: String(firstPart)) else { throw JinjaFailure.render("KeyError: '\(firstPart)'") }
                value = named
            }
            value = try resolve(path: name, in: value, lookup: lookup)
            switch conversion {
            case nil: break
            case "s": value = .string(try PythonText.str(value, maxBytes: maxBytes))
            case "r", "a": value = .string(try PythonText.repr(value, maxBytes: maxBytes))
            default: throw JinjaFailure.render("Unknown conversion specifier \(conversion!)")
            }
            let text = try formatValue(value, spec: spec ?? "", maxBytes: maxBytes)
            result += escapingFields && !value.isMarkup ? PythonText.escapeHTML(text) : text
            try PythonOperators.checkLength(result.utf8.count, maxBytes: maxBytes)
        }
        return result
    }

    private static func splitField(_ field: String) -> (String, Character?, String?) {
        var name = field
        var spec: String?
        var conversion: Character?
        if let colon = name.firstIndex(of: ":") {
            spec = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        if let bang = name.firstIndex(of: "!") {
            conversion = name[name.index(after: bang)...].first
            name = String(name[..<bang])
        }
        return (name, conversion, spec)
    }

    /// Follows `.attr` and `[key]` parts of a field name.
    private static func resolve(
        path: String, in start: JinjaValue, lookup: (JinjaValue, JinjaValue, Bool) throws -> JinjaValue
    ) throws -> JinjaValue {
        var value = start
        var rest = Substring(path)
        while let first = rest.first {
            rest.removeFirst()
            if first == "." {
                let attribute = rest.prefix { $0 != "." && $0 != "[" }
                rest.removeFirst(attribute.count)
                value = try lookup(value, .string(String(attribute)), true)
            } else {
                guard let close = rest.firstIndex(of: "]") else { throw JinjaFailure.render("Missing ']' in format string") }
                let key = rest[..<close]
                rest = rest[rest.index(after: close)...]
                value = try lookup(value, Int(key).map { .integer($0) } ?? .string(String(key)), false)
            }
        }
        return value
    }

    /// `format(value, spec)` for strings, integers and floats.
    private static func formatValue(_ value: JinjaValue, spec: String, maxBytes: Int) throws -> String {
        guard !spec.isEmpty else { return try PythonText.str(value, maxBytes: maxBytes) }
        var scalars = Array(spec.unicodeScalars)
        var fill: Unicode.Scalar = " "
        var align: Character?
        if scalars.count >= 2, "<>^=".unicodeScalars.contains(scalars[1]) {
            fill = scalars[0]
            align = Character(scalars[1])
            scalars.removeFirst(2)
        } else if let first = scalars.first, "<>^=".unicodeScalars.contains(first) {
            align = Character(first)
            scalars.removeFirst()
        }
        var sign: Character = "-"
        if let first = scalars.first, "+- ".unicodeScalars.contains(first) {
            sign = Character(first)
            scalars.removeFirst()
        }
        var alternate = false
        if scalars.first == "#" {
            alternate = true
            scalars.removeFirst()
        }
        if scalars.first == "0" {
            if align == nil {
                fill = "0"
                align = "="
            }
            scalars.removeFirst()
        }
        let widthDigits = scalars.prefix { ("0"..."9").contains($0) }
        scalars.removeFirst(widthDigits.count)
        let width = try number(widthDigits) ?? 0
        try PythonOperators.checkLength(width, maxBytes: maxBytes)
        var grouping: Unicode.Scalar?
        if let first = scalars.first, first == "," || first == "_" {
            grouping = first
            scalars.removeFirst()
        }
        var precision: Int?
        if scalars.first == "." {
            scalars.removeFirst()
            let digits = scalars.prefix { ("0"..."9").contains($0) }
            scalars.removeFirst(digits.count)
            precision = try number(digits)
            try PythonOperators.checkLength(precision ?? 0, maxBytes: maxBytes)
        }
        guard scalars.count <= 1 else { throw JinjaFailure.render("Invalid format specifier '\(spec)'") }
        let type = scalars.first.map(Character.init)

        var body: String
        var numberSign = ""
        switch value {
        case .string(let text), .markup(let text):
            guard type == nil || type == "s" else {
                throw JinjaFailure.render("Unknown format code '\(type!)' for object of type 'str'")
            }
            guard sign == "-", !alternate, grouping == nil, align != "=" else {
                throw JinjaFailure.render("invalid format specifier for a string: '\(spec)'")
            }
            body = precision.map { PythonString.string(text.unicodeScalars.prefix($0)) } ?? text
            return PythonString.pad(body, width: width, fill: fill, alignment: align ?? "<")
        case .integer, .boolean:
            let number: Int
            switch value {
            case .integer(let integer): number = integer
            case .boolean(let flag): number = flag ? 1 : 0
            default: number = 0
            }
            if type == nil && precision == nil && grouping == nil, case .boolean = value, align == nil, width == 0 {
                return try PythonText.str(value, maxBytes: maxBytes)
            }
            switch type {
            case nil, "d", "n":
                guard precision == nil else { throw JinjaFailure.render("Precision not allowed in integer format specifier") }
                body = String(number.magnitude)
            case "x", "X", "o", "b":
                guard precision == nil, grouping == nil || grouping == "_" else { throw JinjaFailure.render("Invalid format specifier '\(spec)'") }
                let radix = type == "o" ? 8 : type == "b" ? 2 : 16
                body = String(number.magnitude, radix: radix, uppercase: type == "X")
                if alternate { body = (type == "o" ? "0o" : type == "b" ? "0b" : type == "X" ? "0X" : "0x") + body }
            case "e", "E", "f", "F", "g", "G", "%":
                return try formatValue(.float(Double(number)), spec: spec, maxBytes: maxBytes)
            default:
                throw JinjaFailure.render("Unknown format code '\(type!)' for object of type 'int'")
            }
            if let grouping, type == nil || type == "d" || type == "n" { body = group(body, separator: grouping) }
            numberSign = number < 0 ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
        case .float(let number):
            guard let type else {
                guard precision == nil, grouping == nil else { throw JinjaFailure.unsupported("float format specifier '\(spec)'", at: nil) }
                body = PythonText.float(number.magnitude)
                numberSign = number.sign == .minus ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
                break
            }
            guard "eEfFgG%".contains(type) else { throw JinjaFailure.render("Unknown format code '\(type)' for object of type 'float'") }
            let scaled = type == "%" ? number * 100 : number
            body = cFormat(scaled.magnitude, conversion: type == "%" ? "f" : type, precision: precision ?? 6, alternate: alternate)
            if type == "%" { body += "%" }
            if let grouping {
                let integerPart = body.prefix { $0.isNumber }
                body = group(String(integerPart), separator: grouping) + body.dropFirst(integerPart.count)
            }
            numberSign = number.sign == .minus && !number.isNaN ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
        default:
            guard type == nil, precision == nil, sign == "-", !alternate, grouping == nil else {
                throw JinjaFailure.render("unsupported format string passed to \(value.typeName).__format__")
            }
            return PythonString.pad(try PythonText.str(value, maxBytes: maxBytes), width: width, fill: fill, alignment: align ?? "<")
        }
        if align == "=" {
            let padding = max(0, width - numberSign.unicodeScalars.count - body.unicodeScalars.count)
            return numberSign + String(repeating: String(fill), count: padding) + body
        }
        return PythonString.pad(numberSign + body, width: width, fill: fill, alignment: align ?? ">")
    }

    /// Decimal digits of a width or precision; nil when there are none.
    private static func number(_ digits: ArraySlice<Unicode.Scalar>) throws -> Int? {
        guard !digits.isEmpty else { return nil }
        guard let value = Int(PythonString.string(digits)) else { throw JinjaFailure.render("Too many decimal digits in format string") }
        return value
    }

    private static func group(_ digits: String, separator: Unicode.Scalar) -> String {
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { result.unicodeScalars.append(separator) }
            result.append(character)
        }
        return result
    }

    /// C's `printf` for `%f %e %g` (which Python's float formatting matches for these conversions).
    private static func cFormat(_ value: Double, conversion: Character, precision: Int, alternate: Bool) -> String {
        let format = "%" + (alternate ? "#" : "") + "." + String(precision) + String(conversion)
        var capacity = 64 + precision
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = Int(withVaList([value]) { vsnprintf(&buffer, capacity, format, $0) })
            guard count >= 0 else { return "" }
            if count < capacity { return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            capacity = count + 1
        }
    }

    // MARK: - printf-style %

    /// `template % arguments`: a tuple supplies positional values, a dictionary `%(name)s` values, anything
    /// else is the single value.
    static func percent(_ template: String, _ arguments: JinjaValue, maxBytes: Int) throws -> String {
        let positional: [JinjaValue]
        var mapping: JinjaDictionary?
        switch arguments {
        case .tuple(let sequence): positional = sequence.items
        case .dictionary(let dictionary):
            positional = [arguments]
            mapping = dictionary
        default: positional = [arguments]
        }
        let scalars = Array(template.unicodeScalars)
        var result = ""
        var index = 0
        var used = 0
        func nextArgument() throws -> JinjaValue {
            guard used < positional.count else { throw JinjaFailure.render("not enough arguments for format string") }
            defer { used += 1 }
            return positional[used]
        }
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "%" else {
                result.unicodeScalars.append(scalar)
                continue
            }
            var key: String?
            if index < scalars.count, scalars[index] == "(" {
                guard let close = scalars[index...].firstIndex(of: ")") else { throw JinjaFailure.render("incomplete format key") }
                key = PythonString.string(scalars[(index + 1)..<close])
                index = close + 1
            }
            var flags = Set<Unicode.Scalar>()
            while index < scalars.count, "-+ 0#".unicodeScalars.contains(scalars[index]) {
                flags.insert(scalars[index])
                index += 1
            }
            func number() throws -> Int? {
                if index < scalars.count, scalars[index] == "*" {
                    index += 1
                    guard case .integer(let value) = try nextArgument() else { throw JinjaFailure.render("* wants int") }
                    return value
                }
                let digits = scalars[index...].prefix { ("0"..."9").contains($0) }
                index += digits.count
                return try PythonFormat.number(digits)
            }
            var width = try number() ?? 0
            if width < 0 {
                flags.insert("-")
                width = -width
            }
            var precision: Int?
            if index < scalars.count, scalars[index] == "." {
                index += 1
                precision = try number() ?? 0
            }
            while index < scalars.count, "hlL".unicodeScalars.contains(scalars[index]) { index += 1 }
            guard index < scalars.count else { throw JinjaFailure.render("incomplete format") }
            let conversion = Character(scalars[index])
            index += 1
            if conversion == "%" {
                result += "%"
                continue
            }
            let value: JinjaValue
            if let key {
                guard let mapping else { throw JinjaFailure.render("format requires a mapping") }
                guard let found = mapping.value(forString: key) else { throw JinjaFailure.render("KeyError: '\(key)'") }
                value = found
            } else {
                value = try nextArgument()
            }
            try PythonOperators.checkLength(max(width, precision ?? 0), maxBytes: maxBytes)
            result += try percentField(value, conversion: conversion, flags: flags, width: width, precision: precision, maxBytes: maxBytes)
            try PythonOperators.checkLength(result.utf8.count, maxBytes: maxBytes)
        }
        // A dictionary argument is never "not all converted", as in Python.
        if mapping == nil, used < positional.count {
            throw JinjaFailure.render("not all arguments converted during string formatting")
        }
        return result
    }

    private static func percentField(
        _ value: JinjaValue, conversion: Character, flags: Set<Unicode.Scalar>, width: Int, precision: Int?, maxBytes: Int
    ) throws -> String {
        let leftAlign = flags.contains("-")
        func padded(_ text: String, numeric: Bool) -> String {
            if leftAlign { return PythonString.pad(text, width: width, fill: " ", alignment: "<") }
            if numeric, flags.contains("0") {
                let signLength = text.hasPrefix("-") || text.hasPrefix("+") || text.hasPrefix(" ") ? 1 : 0
                let sign = String(text.prefix(signLength))
                let digits = String(text.dropFirst(signLength))
                return sign + String(repeating: "0", count: max(0, width - text.unicodeScalars.count)) + digits
            }
            return PythonString.pad(text, width: width, fill: " ", alignment: ">")
        }
        func signed(_ body: String, negative: Bool) -> String {
            (negative ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : "") + body
        }
        switch conversion {
        case "s", "r", "a":
            var text = conversion == "s" ? try PythonText.str(value, maxBytes: maxBytes) : try PythonText.repr(value, maxBytes: maxBytes)
            if let precision { text = PythonString.string(text.unicodeScalars.prefix(precision)) }
            return padded(text, numeric: false)
        case "d", "i", "u", "x", "X", "o":
            let number: Int
            switch value {
            case .integer(let integer): number = integer
            case .boolean(let flag): number = flag ? 1 : 0
            case .float(let float) where "diu".contains(conversion):
                guard let truncated = Int(exactly: float.rounded(.towardZero)) else { throw JinjaFailure.render("cannot convert float to integer") }
                number = truncated
            default:
                let kind = "diu".contains(conversion) ? "a real number" : "an integer"
                throw JinjaFailure.render("%\(conversion) format: \(kind) is required, not \(value.typeName)")
            }
            let radix = conversion == "o" ? 8 : "xX".contains(conversion) ? 16 : 10
            var digits = String(number.magnitude, radix: radix, uppercase: conversion == "X")
            if let precision, digits.count < precision { digits = String(repeating: "0", count: precision - digits.count) + digits }
            if flags.contains("#"), radix != 10 { digits = (radix == 8 ? "0o" : conversion == "X" ? "0X" : "0x") + digits }
            return padded(signed(digits, negative: number < 0), numeric: true)
        case "f", "F", "e", "E", "g", "G":
            guard let number = PythonOperators.Number(value)?.double else {
                throw JinjaFailure.render("must be real number, not \(value.typeName)")
            }
            let body = cFormat(number.magnitude, conversion: conversion, precision: precision ?? 6, alternate: flags.contains("#"))
            return padded(signed(body, negative: number.sign == .minus && !number.isNaN), numeric: true)
        case "c":
            if case .integer(let code) = value, let scalar = Unicode.Scalar(UInt32(clamping: max(0, code))) {
                return padded(String(scalar), numeric: false)
            }
            if let text = value.text, text.unicodeScalars.count == 1 { return padded(text, numeric: false) }
            throw JinjaFailure.render("%c requires int or char")
        default:
            throw JinjaFailure.render("unsupported format character '\(conversion)'")
        }
    }
}
