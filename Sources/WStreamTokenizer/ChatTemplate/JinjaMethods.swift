/// The Python methods templates call on values (`text.strip()`, `message.get('content')`,
/// `'{}'.format(x)`), and the sandbox's refusal of those that modify a list or dictionary in place.
enum JinjaMethods {
    enum Availability { case method, unsafe, absent }

    private static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map", "index",
        "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title",
        "translate", "upper", "zfill",
    ]
    private static let markupMethods: Set<String> = ["escape", "unescape", "striptags"]
    private static let listMethods: Set<String> = ["copy", "count", "index"]
    private static let listMutators: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]
    private static let dictionaryMethods: Set<String> = ["copy", "fromkeys", "get", "items", "keys", "values"]
    private static let dictionaryMutators: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]

    /// Whether `value.name` is a Python method, one the sandbox refuses, or neither.
    static func lookup(_ name: String, on value: JinjaValue) -> Availability {
        switch value {
        case .string: stringMethods.contains(name) ? .method : .absent
        case .markup: stringMethods.contains(name) || markupMethods.contains(name) ? .method : .absent
        case .list: listMethods.contains(name) ? .method : listMutators.contains(name) ? .unsafe : .absent
        case .tuple: name == "count" || name == "index" ? .method : .absent
        case .dictionary: dictionaryMethods.contains(name) ? .method : dictionaryMutators.contains(name) ? .unsafe : .absent
        case .range: name == "count" || name == "index" ? .method : .absent
        default: .absent
        }
    }

    static func call(_ name: String, on receiver: JinjaValue, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        switch receiver {
        case .string(let text): return try stringMethod(name, text, arguments, interpreter: interpreter)
        case .markup(let text): return try markupMethod(name, text, arguments, interpreter: interpreter)
        case .list(let sequence), .tuple(let sequence): return try sequenceMethod(name, receiver, sequence.items, arguments)
        case .range(let range): return try sequenceMethod(name, receiver, range.elements, arguments)
        case .dictionary(let dictionary): return try dictionaryMethod(name, dictionary, arguments, interpreter: interpreter)
        default: throw JinjaFailure.render("'\(receiver.typeName)' object has no attribute '\(name)'")
        }
    }

    // MARK: - str

    private static func text(_ value: JinjaValue, _ function: String, _ position: Int) throws -> String {
        guard let text = value.text else {
            throw JinjaFailure.render("\(function) argument \(position) must be str, not \(value.typeName)")
        }
        return text
    }

    private static func optionalText(_ value: JinjaValue, _ function: String) throws -> String? {
        if case .none = value { return nil }
        return try text(value, function, 1)
    }

    private static func integer(_ value: JinjaValue, _ function: String) throws -> Int {
        switch value {
        case .integer(let number): return number
        case .boolean(let flag): return flag ? 1 : 0
        default: throw JinjaFailure.render("\(function): '\(value.typeName)' object cannot be interpreted as an integer")
        }
    }

    private static func optionalInteger(_ value: JinjaValue, _ function: String) throws -> Int? {
        if case .none = value { return nil }
        return try integer(value, function)
    }

    private static func stringMethod(_ name: String, _ text: String, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        let function = "str.\(name)()"
        func bind(_ parameters: [JinjaArguments.Parameter], keywords: Bool = false) throws -> [JinjaValue] {
            try arguments.bind(parameters, function: function, keywordsAllowed: keywords)
        }
        func result(_ string: String) throws -> JinjaValue { try interpreter.string(string) }
        switch name {
        case "strip", "lstrip", "rstrip":
            let characters = try optionalText(try bind([.optional("chars", .none)])[0], function)
            return .string(PythonString.strip(text, characters: characters, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let values = try bind([.optional("sep", .none), .optional("maxsplit", .integer(-1))], keywords: true)
            let separator = try optionalText(values[0], function)
            let maxSplit = try integer(values[1], function)
            // Splitting stops one part past the collection limit, so an oversized result fails (as a list of
            // more than the limit) without being built.
            let bound = interpreter.limits.maxCollectionCount
            let limit = maxSplit < 0 || maxSplit > bound ? bound : maxSplit
            let parts = name == "split"
                ? try PythonString.split(text, separator: separator, maxSplit: limit)
                : try PythonString.rsplit(text, separator: separator, maxSplit: limit)
            return try interpreter.list(parts.map { .string($0) })
        case "splitlines":
            let keepEnds = try bind([.optional("keepends", .boolean(false))], keywords: true)[0].isTrue
            let lines = try PythonString.splitLines(text, keepEnds: keepEnds, maxParts: interpreter.limits.maxCollectionCount)
            return try interpreter.list(lines.map { .string($0) })
        case "startswith", "endswith":
            let values = try bind([.required("prefix"), .optional("start", .none), .optional("end", .none)])
            let all = PythonString.scalars(text)
            let (start, end) = PythonString.bounds(try optionalInteger(values[1], function), try optionalInteger(values[2], function), count: all.count)
            let candidates: [String]
            switch values[0] {
            case .tuple(let sequence): candidates = try sequence.items.map { try self.text($0, function, 1) }
            default: candidates = [try self.text(values[0], function, 1)]
            }
            let matched = candidates.contains { candidate in
                let needle = PythonString.scalars(candidate)
                guard start <= end, needle.count <= end - start else { return false }
                return name == "startswith"
                    ? all[start..<(start + needle.count)].elementsEqual(needle)
                    : all[(end - needle.count)..<end].elementsEqual(needle)
            }
            return .boolean(matched)
        case "replace":
            let values = try bind([.required("old"), .required("new"), .optional("count", .integer(-1))])
            let replaced = try PythonString.replace(
                text, try self.text(values[0], function, 1), try self.text(values[1], function, 2), count: try integer(values[2], function),
                maxBytes: interpreter.limits.maxOutputBytes)
            return try result(replaced)
        case "upper": try arguments.bindNone(function: function); return .string(PythonString.upper(text))
        case "lower": try arguments.bindNone(function: function); return .string(PythonString.lower(text))
        case "title": try arguments.bindNone(function: function); return .string(PythonString.title(text))
        case "capitalize": try arguments.bindNone(function: function); return .string(PythonString.capitalize(text))
        case "swapcase": try arguments.bindNone(function: function); return .string(PythonString.swapCase(text))
        case "find", "rfind", "index", "rindex", "count":
            let values = try bind([.required("sub"), .optional("start", .none), .optional("end", .none)])
            let all = PythonString.scalars(text)
            let needle = PythonString.scalars(try self.text(values[0], function, 1))
            let (start, end) = PythonString.bounds(try optionalInteger(values[1], function), try optionalInteger(values[2], function), count: all.count)
            if name == "count" { return .integer(start > end ? 0 : PythonString.count(needle, in: all, from: start, to: end)) }
            let found = start > end ? nil : name.hasPrefix("r")
                ? PythonString.findLast(needle, in: all, from: start, to: end) : PythonString.find(needle, in: all, from: start, to: end)
            if found == nil, name.hasSuffix("index") { throw JinjaFailure.render("substring not found") }
            return .integer(found ?? -1)
        case "join":
            let items = try interpreter.elements(of: try bind([.required("iterable")])[0])
            var total = 0
            let parts = try items.enumerated().map { offset, item in
                guard let part = item.text else {
                    throw JinjaFailure.render("sequence item \(offset): expected str instance, \(item.typeName) found")
                }
                total += part.utf8.count + text.utf8.count
                try PythonOperators.checkLength(total, interpreter.limits)
                return part
            }
            return try result(parts.joined(separator: text))
        case "format", "format_map":
            return try result(try format(text, name, arguments, escapingFields: false, interpreter: interpreter))
        case "center", "ljust", "rjust":
            let values = try bind([.required("width"), .optional("fillchar", .string(" "))])
            let fill = try self.text(values[1], function, 2)
            guard fill.unicodeScalars.count == 1 else { throw JinjaFailure.render("The fill character must be exactly one character long") }
            let width = try integer(values[0], function)
            try PythonOperators.checkLength(width, interpreter.limits)
            let alignment: Character = name == "center" ? "^" : name == "ljust" ? "<" : ">"
            return try result(PythonString.pad(text, width: width, fill: fill.unicodeScalars.first!, alignment: alignment))
        case "zfill":
            let width = try integer(try bind([.required("width")])[0], function)
            try PythonOperators.checkLength(width, interpreter.limits)
            let all = PythonString.scalars(text)
            let padding = max(0, width - all.count)
            let hasSign = all.first == "+" || all.first == "-"
            let body = hasSign ? PythonString.string(all.dropFirst()) : text
            return try result((hasSign ? String(all[0]) : "") + String(repeating: "0", count: padding) + body)
        case "partition", "rpartition":
            let separator = try self.text(try bind([.required("sep")])[0], function, 1)
            guard !separator.isEmpty else { throw JinjaFailure.render("empty separator") }
            let all = PythonString.scalars(text)
            let needle = PythonString.scalars(separator)
            let found = name == "partition" ? PythonString.find(needle, in: all) : PythonString.findLast(needle, in: all)
            guard let found else {
                return try interpreter.tuple(name == "partition" ? [.string(text), .emptyString, .emptyString] : [.emptyString, .emptyString, .string(text)])
            }
            return try interpreter.tuple([
                .string(PythonString.string(all[..<found])), .string(separator), .string(PythonString.string(all[(found + needle.count)...])),
            ])
        case "removeprefix", "removesuffix":
            let affix = PythonString.scalars(try self.text(try bind([.required("prefix")])[0], function, 1))
            let all = PythonString.scalars(text)
            if name == "removeprefix", all.starts(with: affix) { return .string(PythonString.string(all.dropFirst(affix.count))) }
            if name == "removesuffix", !affix.isEmpty, all.count >= affix.count, all.suffix(affix.count).elementsEqual(affix) {
                return .string(PythonString.string(all.dropLast(affix.count)))
            }
            return .string(text)
        case "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper":
            try arguments.bindNone(function: function)
            let scalars = text.unicodeScalars
            switch name {
            case "islower": return .boolean(PythonString.isLower(text))
            case "isupper": return .boolean(PythonString.isUpper(text))
            default:
                guard !scalars.isEmpty else { return .boolean(false) }
                return .boolean(scalars.allSatisfy { scalar in
                    let properties = scalar.properties
                    switch name {
                    case "isdecimal": return properties.numericType == .decimal
                    case "isdigit": return properties.numericType == .decimal || properties.numericType == .digit
                    case "isnumeric": return properties.numericType != nil
                    case "isalpha": return isLetter(properties.generalCategory)
                    case "isspace": return PythonText.isWhitespace(scalar)
                    default: return properties.numericType != nil || (isLetter(properties.generalCategory))
                    }
                })
            }
        default:
            throw JinjaFailure.unsupported("the str.\(name)() method", at: nil)
        }
    }

    /// `str.format(*args, **kwargs)` or `str.format_map(mapping)`; field lookups go through the sandbox.
    private static func format(
        _ text: String, _ name: String, _ arguments: JinjaArguments, escapingFields: Bool, interpreter: JinjaInterpreter
    ) throws -> String {
        var positional = arguments.positional
        var keywords = try JinjaDictionary(arguments.keywords.map { ($0.name, $0.value) }, maxNesting: interpreter.limits.maxNesting)
        if name == "format_map" {
            let mapping = try arguments.bind([.required("mapping")], function: "str.format_map()", keywordsAllowed: false)[0]
            guard case .dictionary(let dictionary) = mapping else {
                throw JinjaFailure.render("str.format_map() argument must be a mapping, not \(mapping.typeName)")
            }
            positional = []
            keywords = dictionary
        }
        return try PythonFormat.format(
            text, positional: positional, keywords: keywords, escapingFields: escapingFields, maxBytes: interpreter.limits.maxOutputBytes
        ) { value, key, isAttribute in
            if isAttribute, case .string(let attribute) = key { return try interpreter.attribute(of: value, attribute) }
            return try interpreter.item(of: value, key)
        }
    }

    /// markupsafe's `Markup` methods: string arguments are escaped and string results stay markup.
    private static func markupMethod(_ name: String, _ text: String, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        func escaped(_ value: JinjaValue) throws -> JinjaValue {
            switch value {
            case .string(let plain): return .markup(PythonText.escapeHTML(plain))
            case .markup, .none, .integer, .boolean, .float: return value
            default: return .markup(PythonText.escapeHTML(try interpreter.str(value)))
            }
        }
        func asMarkup(_ value: JinjaValue) -> JinjaValue {
            if case .string(let plain) = value { return .markup(plain) }
            return value
        }
        switch name {
        case "escape", "unescape", "striptags":
            throw JinjaFailure.unsupported("the Markup.\(name)() method", at: nil)
        case "join":
            let items = try interpreter.elements(of: try arguments.bind([.required("iterable")], function: "Markup.join()")[0])
            let joined = try items.map { try escaped($0) }
            return asMarkup(try stringMethod("join", text, JinjaArguments(positional: [try interpreter.list(joined)]), interpreter: interpreter))
        case "format", "format_map":
            return .markup(try format(text, name, arguments, escapingFields: true, interpreter: interpreter))
        case "split", "rsplit", "splitlines", "partition", "rpartition":
            let result = try stringMethod(name, text, arguments, interpreter: interpreter)
            switch result {
            case .list(let sequence): return try interpreter.list(sequence.items.map(asMarkup))
            case .tuple(let sequence): return try interpreter.tuple(sequence.items.map(asMarkup))
            default: return result
            }
        case "capitalize", "title", "lower", "upper", "replace", "ljust", "rjust", "lstrip", "rstrip", "center", "strip",
            "swapcase", "zfill", "removeprefix", "removesuffix":
            var escapedArguments = arguments
            escapedArguments.positional = try arguments.positional.map(escaped)
            return asMarkup(try stringMethod(name, text, escapedArguments, interpreter: interpreter))
        default:
            return try stringMethod(name, text, arguments, interpreter: interpreter)
        }
    }

    /// Python's `isalpha` letters: the general categories Lu, Ll, Lt, Lm and Lo.
    private static func isLetter(_ category: Unicode.GeneralCategory) -> Bool {
        switch category {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    // MARK: - list, tuple, dict

    private static func sequenceMethod(_ name: String, _ receiver: JinjaValue, _ items: [JinjaValue], _ arguments: JinjaArguments) throws -> JinjaValue {
        let function = "\(receiver.typeName).\(name)()"
        switch name {
        case "copy":
            try arguments.bindNone(function: function)
            return receiver
        case "count":
            let value = try arguments.bind([.required("value")], function: function, keywordsAllowed: false)[0]
            return .integer(items.filter { PythonOperators.equal($0, value) }.count)
        default:
            let values = try arguments.bind(
                [.required("value"), .optional("start", .integer(0)), .optional("stop", .integer(Int.max))], function: function,
                keywordsAllowed: false)
            let (start, stop) = PythonString.bounds(try integer(values[1], function), try integer(values[2], function), count: items.count)
            if start < stop, let found = items[start..<stop].firstIndex(where: { PythonOperators.equal($0, values[0]) }) {
                return .integer(found)
            }
            throw JinjaFailure.render("\(PythonText.shortRepr(values[0])) is not in \(receiver.typeName)")
        }
    }

    private static func dictionaryMethod(_ name: String, _ dictionary: JinjaDictionary, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        let function = "dict.\(name)()"
        switch name {
        case "get":
            let values = try arguments.bind([.required("key"), .optional("default", .none)], function: function, keywordsAllowed: false)
            return try dictionary.value(for: values[0]) ?? values[1]
        case "items", "keys", "values":
            try arguments.bindNone(function: function)
            return .view(JinjaDictionaryView(kind: name == "items" ? .items : name == "keys" ? .keys : .values, dictionary: dictionary))
        case "copy":
            try arguments.bindNone(function: function)
            return .dictionary(dictionary)
        default:
            return try JinjaGlobals.call("dict.fromkeys", arguments, interpreter: interpreter)
        }
    }
}
