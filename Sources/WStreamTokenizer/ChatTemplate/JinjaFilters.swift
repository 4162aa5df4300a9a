#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Jinja's filters as transformers configures them (its own `tojson`), with each filter's Python
/// signature: positional and keyword arguments bind as in Python and an unknown keyword is an error.
enum JinjaFilters {
    /// Jinja's built-in filters that wstream does not render; using one fails naming it.
    private static let unsupported: Set<String> = [
        "filesizeformat", "groupby", "pprint", "random", "striptags", "truncate", "urlencode", "urlize", "wordwrap", "xmlattr",
    ]
    private static let implemented: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
        "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
        "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "sum",
        "title", "tojson", "trim", "unique", "upper", "wordcount",
    ]

    /// Whether Jinja (with transformers' additions) has a filter called `name`.
    static func exists(_ name: String) -> Bool { implemented.contains(name) || unsupported.contains(name) }

    static func apply(_ name: String, to value: JinjaValue, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        guard implemented.contains(name) else {
            if unsupported.contains(name) { throw JinjaFailure.unsupported("the '\(name)' filter", at: nil) }
            throw JinjaFailure.render("No filter named '\(name)'.")
        }
        try interpreter.charge()
        let function = "the '\(name)' filter"
        func bind(_ parameters: [JinjaArguments.Parameter]) throws -> [JinjaValue] {
            try arguments.bind(parameters, function: function)
        }
        func softText(_ value: JinjaValue) throws -> String { try interpreter.str(value) }
        /// Filters that call `soft_str(value).method()` keep markup as markup.
        func sameKind(_ text: String) -> JinjaValue { value.isMarkup ? .markup(text) : .string(text) }

        switch name {
        case "default", "d":
            let values = try bind([.optional("default_value", .emptyString), .optional("boolean", .boolean(false))])
            return value.isUndefined || (values[1].isTrue && !value.isTrue) ? values[0] : value
        case "length", "count":
            try arguments.bindNone(function: function)
            return .integer(try length(of: value))
        case "string":
            try arguments.bindNone(function: function)
            return value.isMarkup ? value : try interpreter.string(try softText(value))
        case "safe":
            try arguments.bindNone(function: function)
            return .markup(try softText(value))
        case "escape", "e", "forceescape":
            try arguments.bindNone(function: function)
            if value.isMarkup, name != "forceescape" { return value }
            return .markup(PythonText.escapeHTML(try softText(value)))
        case "upper", "lower", "capitalize":
            try arguments.bindNone(function: function)
            let text = try softText(value)
            return sameKind(name == "upper" ? PythonString.upper(text) : name == "lower" ? PythonString.lower(text) : PythonString.capitalize(text))
        case "title":
            try arguments.bindNone(function: function)
            return .string(PythonString.jinjaTitle(try softText(value)))
        case "trim":
            let characters = try bind([.optional("chars", .none)])[0]
            let set: String?
            switch characters {
            case .none: set = nil
            default:
                guard let text = characters.text else { throw JinjaFailure.render("strip arg must be None or str") }
                set = text
            }
            return sameKind(PythonString.strip(try softText(value), characters: set, leading: true, trailing: true))
        case "replace":
            let values = try bind([.required("old"), .required("new"), .optional("count", .none)])
            let count: Int
            switch values[2] {
            case .none: count = -1
            case .integer(let number): count = number
            default: throw JinjaFailure.render("'\(values[2].typeName)' object cannot be interpreted as an integer")
            }
            return try interpreter.string(PythonString.replace(
                try softText(value), try softText(values[0]), try softText(values[1]), count: count, maxBytes: interpreter.limits.maxOutputBytes))
        case "center":
            let width = try bind([.optional("width", .integer(80))])[0]
            guard case .integer(let columns) = width else { throw JinjaFailure.render("'\(width.typeName)' object cannot be interpreted as an integer") }
            try PythonOperators.checkLength(columns, interpreter.limits)
            return sameKind(PythonString.pad(try softText(value), width: columns, fill: " ", alignment: "^"))
        case "wordcount":
            try arguments.bindNone(function: function)
            let words = try softText(value).unicodeScalars.split { !($0 == "_" || $0.properties.isAlphabetic || $0.properties.numericType != nil) }
            return .integer(words.count)
        case "indent":
            return try indent(value, try bind([.optional("width", .integer(4)), .optional("first", .boolean(false)), .optional("blank", .boolean(false))]), interpreter: interpreter)
        case "format":
            guard arguments.positional.isEmpty || arguments.keywords.isEmpty else {
                throw JinjaFailure.render("can't handle positional and keyword arguments at the same time")
            }
            let operand = arguments.keywords.isEmpty
                ? try interpreter.tuple(arguments.positional)
                : .dictionary(try JinjaDictionary(arguments.keywords.map { ($0.name, $0.value) }, maxNesting: interpreter.limits.maxNesting))
            return sameKind(try PythonFormat.percent(try softText(value), operand, maxBytes: interpreter.limits.maxOutputBytes))
        case "tojson":
            return try toJSON(value, try bind([
                .optional("ensure_ascii", .boolean(false)), .optional("indent", .none), .optional("separators", .none),
                .optional("sort_keys", .boolean(false)),
            ]), interpreter: interpreter)
        case "int":
            let values = try bind([.optional("default", .integer(0)), .optional("base", .integer(10))])
            return try integer(value, default: values[0], base: values[1])
        case "float":
            let fallback = try bind([.optional("default", .float(0))])[0]
            return try float(value) ?? fallback
        case "abs":
            try arguments.bindNone(function: function)
            switch value {
            case .integer(let number):
                guard number != .min else { throw JinjaFailure.unsupported("integer arithmetic beyond 64 bits", at: nil) }
                return .integer(abs(number))
            case .boolean(let flag): return .integer(flag ? 1 : 0)
            case .float(let number): return .float(abs(number))
            case .undefined(let undefined): throw PythonOperators.undefinedError(undefined)
            default: throw JinjaFailure.render("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            return try round(value, try bind([.optional("precision", .integer(0)), .optional("method", .string("common"))]))
        case "attr":
            let attributeName = try bind([.required("name")])[0]
            guard case .string(let attribute) = attributeName else { throw JinjaFailure.render("attribute name must be string") }
            switch value {
            case .dictionary:
                if JinjaMethods.lookup(attribute, on: value) == .absent { return .undefined(JinjaInterpreter.missingAttribute(attribute, of: value)) }
            default: break
            }
            return try interpreter.attribute(of: value, attribute)
        case "first":
            try arguments.bindNone(function: function)
            if case .iterator(let iterator) = value {
                return try iterator.next() ?? .undefined("No first item, sequence was empty.")
            }
            return try interpreter.elements(of: value).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            try arguments.bindNone(function: function)
            if case .iterator = value { throw JinjaFailure.render("'\(value.typeName)' object is not reversible") }
            return try interpreter.elements(of: value).last ?? .undefined("No last item, sequence was empty.")
        case "list":
            try arguments.bindNone(function: function)
            return try interpreter.list(try interpreter.elements(of: value))
        case "items":
            try arguments.bindNone(function: function)
            if value.isUndefined { return .iterator(JinjaIterator(typeName: "generator", elements: [], depth: 1)) }
            guard case .dictionary(let dictionary) = value else { throw JinjaFailure.render("Can only get item pairs from a mapping.") }
            let items = JinjaDictionaryView(kind: .items, dictionary: dictionary)
            return .iterator(JinjaIterator(typeName: "generator", elements: items.elements, depth: dictionary.depth + 2))
        case "join":
            let values = try bind([.optional("d", .emptyString), .optional("attribute", .none)])
            var items = try interpreter.elements(of: value)
            if case .none = values[1] {} else { items = try items.map { try attributePath(values[1], of: $0, interpreter: interpreter) } }
            let separator = try softText(values[0])
            var parts: [String] = []
            var total = 0
            for item in items {
                let part = try softText(item)
                total += part.utf8.count + separator.utf8.count
                try PythonOperators.checkLength(total, interpreter.limits)
                parts.append(part)
            }
            return try interpreter.string(parts.joined(separator: separator))
        case "reverse":
            try arguments.bindNone(function: function)
            switch value {
            case .string(let text), .markup(let text): return sameKind(PythonString.string(text.unicodeScalars.reversed()))
            case .iterator: return try interpreter.list(try interpreter.elements(of: value).reversed())
            default:
                let items = try interpreter.elements(of: value)
                let typeName: String
                switch value {
                case .list: typeName = "list_reverseiterator"
                case .dictionary, .view: typeName = "dict_reversekeyiterator"
                case .range: typeName = "range_iterator"
                default: typeName = "reversed"
                }
                return .iterator(JinjaIterator(typeName: typeName, elements: items.reversed(), depth: value.depth + 1))
            }
        case "sort":
            let values = try bind([
                .optional("reverse", .boolean(false)), .optional("case_sensitive", .boolean(false)), .optional("attribute", .none),
            ])
            let items = try interpreter.elements(of: value)
            let sorted = try PythonOperators.sorted(items, by: { item in
                try sortKey(item, attributes: values[2], caseSensitive: values[1].isTrue, interpreter: interpreter)
            }, reverse: values[0].isTrue)
            return try interpreter.list(sorted)
        case "dictsort":
            let values = try bind([
                .optional("case_sensitive", .boolean(false)), .optional("by", .string("key")), .optional("reverse", .boolean(false)),
            ])
            guard case .dictionary(let dictionary) = value else {
                if case .undefined(let undefined) = value { throw PythonOperators.undefinedError(undefined) }
                throw JinjaFailure.render("'\(value.typeName)' object has no attribute 'items'")
            }
            let position: Int
            switch values[1].text {
            case "key": position = 0
            case "value": position = 1
            default: throw JinjaFailure.render("You can only sort by either \"key\" or \"value\"")
            }
            let pairs = Array(zip(dictionary.keys, dictionary.values))
            let sorted = try PythonOperators.sorted(pairs, by: { pair in
                let key = position == 0 ? pair.0 : pair.1
                return values[0].isTrue ? key : ignoreCase(key)
            }, reverse: values[2].isTrue)
            return try interpreter.list(try sorted.map { try interpreter.tuple([$0.0, $0.1]) })
        case "unique":
            let values = try bind([.optional("case_sensitive", .boolean(false)), .optional("attribute", .none)])
            var seen = Set<JinjaKey>()
            return try lazy("generator", over: value, checkTruth: false, interpreter: interpreter) { item in
                var key = try attributePath(values[1], of: item, interpreter: interpreter)
                if !values[0].isTrue { key = ignoreCase(key) }
                return seen.insert(try JinjaKey(key)).inserted ? item : nil
            }
        case "min", "max":
            let values = try bind([.optional("case_sensitive", .boolean(false)), .optional("attribute", .none)])
            let items = try interpreter.elements(of: value)
            guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
            func key(_ item: JinjaValue) throws -> JinjaValue {
                let found = try attributePath(values[1], of: item, interpreter: interpreter)
                return values[0].isTrue ? found : ignoreCase(found)
            }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let candidate = try key(item)
                if name == "min" ? try PythonOperators.less(candidate, bestKey) : try PythonOperators.less(bestKey, candidate) {
                    best = item
                    bestKey = candidate
                }
            }
            return best
        case "sum":
            let values = try bind([.optional("attribute", .none), .optional("start", .integer(0))])
            var total = values[1]
            for item in try interpreter.elements(of: value) {
                let term = try attributePath(values[0], of: item, interpreter: interpreter)
                if term.text != nil { throw JinjaFailure.render("unsupported operand type(s) for +: '\(total.typeName)' and 'str'") }
                total = try PythonOperators.binary(.add, total, term, limits: interpreter.limits)
            }
            return total
        case "map":
            return try map(value, arguments, interpreter: interpreter)
        case "select", "reject", "selectattr", "rejectattr":
            return try select(value, arguments, keep: name.hasPrefix("select"), byAttribute: name.hasSuffix("attr"), interpreter: interpreter)
        default:
            return try batchOrSlice(name, value, try bind([.required(name == "batch" ? "linecount" : "slices"), .optional("fill_with", .none)]), interpreter: interpreter)
        }
    }

    // MARK: - Helpers

    /// Python's `len()`; an undefined value has length 0.
    static func length(of value: JinjaValue) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let text), .markup(let text): return text.unicodeScalars.count
        case .list(let sequence), .tuple(let sequence): return sequence.items.count
        case .dictionary(let dictionary): return dictionary.count
        case .range(let range): return range.count
        case .view(let view): return view.dictionary.count
        case .loop(let loop): return loop.items.count
        default: throw JinjaFailure.render("object of type '\(value.typeName)' has no len()")
        }
    }

    /// Jinja's `ignore_case`: strings compare lower-cased.
    private static func ignoreCase(_ value: JinjaValue) -> JinjaValue {
        guard let text = value.text else { return value }
        return .string(PythonString.lower(text))
    }

    /// `make_attrgetter`: follows a dotted path (`"function.name"`, integer parts as indices); nil keeps the item.
    static func attributePath(_ path: JinjaValue, of item: JinjaValue, interpreter: JinjaInterpreter) throws -> JinjaValue {
        let parts: [JinjaValue]
        switch path {
        case .none: return item
        case .string(let text):
            parts = text.split(separator: ".", omittingEmptySubsequences: false).map { part in
                part.allSatisfy(\.isASCII) && !part.isEmpty && part.allSatisfy(\.isNumber) ? .integer(Int(part) ?? 0) : .string(String(part))
            }
        default: parts = [path]
        }
        var current = item
        for part in parts { current = try interpreter.item(of: current, part) }
        return current
    }

    /// The key `|sort` compares: one value, or a list for comma-separated attributes.
    private static func sortKey(_ item: JinjaValue, attributes: JinjaValue, caseSensitive: Bool, interpreter: JinjaInterpreter) throws -> JinjaValue {
        guard case .string(let text) = attributes, text.contains(",") else {
            let key = try attributePath(attributes, of: item, interpreter: interpreter)
            return caseSensitive ? key : ignoreCase(key)
        }
        let keys = try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let key = try attributePath(.string(String(part)), of: item, interpreter: interpreter)
            return caseSensitive ? key : ignoreCase(key)
        }
        return try interpreter.list(keys)
    }

    /// A generator over `value`'s elements through `transform` (nil drops an element), consumed lazily
    /// like the Python generator it stands for; `checkTruth` reproduces the `if value:` that `map` and
    /// `select` start with.
    private static func lazy(
        _ typeName: String, over value: JinjaValue, checkTruth: Bool, interpreter: JinjaInterpreter,
        _ transform: @escaping (JinjaValue) throws -> JinjaValue?
    ) throws -> JinjaValue {
        let depth = value.depth + 1
        guard depth <= interpreter.limits.maxNesting else {
            throw JinjaFailure.limit("filters on generators nest deeper than \(interpreter.limits.maxNesting) levels")
        }
        var pending: [JinjaValue]?
        var offset = 0
        let source: JinjaIterator?
        if case .iterator(let iterator) = value { source = iterator } else { source = nil }
        let started = !checkTruth || value.isTrue
        let iterator = JinjaIterator(typeName: typeName, depth: depth) { [unowned interpreter] in
            guard started else { return nil }
            while true {
                try interpreter.charge()
                let next: JinjaValue
                if let source {
                    guard let element = try source.next() else { return nil }
                    next = element
                } else {
                    if pending == nil { pending = try interpreter.elements(of: value) }
                    guard offset < pending!.count else { return nil }
                    next = pending![offset]
                    offset += 1
                }
                if let result = try transform(next) { return result }
            }
        }
        interpreter.retainForCleanup(iterator)
        return .iterator(iterator)
    }

    private static func map(_ value: JinjaValue, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        var transform: ((JinjaValue) throws -> JinjaValue)?
        func prepare() throws -> (JinjaValue) throws -> JinjaValue {
            if let transform { return transform }
            var keywords = arguments.keywords
            let prepared: (JinjaValue) throws -> JinjaValue
            if arguments.positional.isEmpty, let attributeIndex = keywords.firstIndex(where: { $0.name == "attribute" }) {
                let attribute = keywords.remove(at: attributeIndex).value
                let fallback = keywords.firstIndex { $0.name == "default" }.map { keywords.remove(at: $0).value }
                if let unexpected = keywords.first { throw JinjaFailure.render("Unexpected keyword argument '\(unexpected.name)'") }
                prepared = { item in
                    let found = try attributePath(attribute, of: item, interpreter: interpreter)
                    if let fallback, found.isUndefined, !(fallback.isNone) { return fallback }
                    return found
                }
            } else {
                guard let filterName = arguments.positional.first else { throw JinjaFailure.render("map requires a filter argument") }
                guard case .string(let name) = filterName else { throw JinjaFailure.render("map requires a filter name") }
                let rest = JinjaArguments(positional: Array(arguments.positional.dropFirst()), keywords: keywords)
                prepared = { item in try interpreter.applyFilter(name, to: item, rest) }
            }
            transform = prepared
            return prepared
        }
        return try lazy("generator", over: value, checkTruth: true, interpreter: interpreter) { item in try prepare()(item) }
    }

    private static func select(
        _ value: JinjaValue, _ arguments: JinjaArguments, keep: Bool, byAttribute: Bool, interpreter: JinjaInterpreter
    ) throws -> JinjaValue {
        func decide(_ item: JinjaValue) throws -> Bool {
            var subject = item
            var offset = 0
            if byAttribute {
                guard let attribute = arguments.positional.first else { throw JinjaFailure.render("Missing parameter for attribute name") }
                subject = try attributePath(attribute, of: item, interpreter: interpreter)
                offset = 1
            }
            guard offset < arguments.positional.count else { return subject.isTrue == keep }
            guard case .string(let test) = arguments.positional[offset] else { throw JinjaFailure.render("test name must be a string") }
            let rest = JinjaArguments(positional: Array(arguments.positional.dropFirst(offset + 1)), keywords: arguments.keywords)
            return try interpreter.applyTest(test, to: subject, rest) == keep
        }
        return try lazy("generator", over: value, checkTruth: true, interpreter: interpreter) { item in try decide(item) ? item : nil }
    }

    private static func indent(_ value: JinjaValue, _ values: [JinjaValue], interpreter: JinjaInterpreter) throws -> JinjaValue {
        guard let text = value.text else {
            if case .undefined(let undefined) = value { throw PythonOperators.undefinedError(undefined) }
            throw JinjaFailure.render("unsupported operand type(s) for +=: '\(value.typeName)' and 'str'")
        }
        let indentation: String
        switch values[0] {
        case .string(let string), .markup(let string): indentation = string
        case .integer(let count):
            try PythonOperators.checkLength(count, interpreter.limits)
            indentation = String(repeating: " ", count: max(0, count))
        case .boolean(let flag): indentation = flag ? " " : ""
        default: throw JinjaFailure.render("can't multiply sequence by non-int of type '\(values[0].typeName)'")
        }
        let lines = try PythonString.splitLines(text + "\n", maxParts: interpreter.limits.maxCollectionCount)
        let (padding, overflow) = lines.count.multipliedReportingOverflow(by: indentation.utf8.count)
        try PythonOperators.checkLength(overflow ? .max : padding + text.utf8.count, interpreter.limits)
        var result: String
        if values[2].isTrue {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            if lines.count > 1 {
                result += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        if values[1].isTrue { result = indentation + result }
        let built = try interpreter.string(result)
        return value.isMarkup ? .markup(result) : built
    }

    /// transformers' `tojson`: `json.dumps(value, ensure_ascii=…, indent=…, separators=…, sort_keys=…)`.
    private static func toJSON(_ value: JinjaValue, _ values: [JinjaValue], interpreter: JinjaInterpreter) throws -> JinjaValue {
        let indent: String?
        switch values[1] {
        case .none: indent = nil
        case .integer(let count):
            try PythonOperators.checkLength(count, interpreter.limits)
            indent = String(repeating: " ", count: max(0, count))
        case .boolean(let flag): indent = flag ? " " : ""
        case .string(let text), .markup(let text): indent = text
        default: throw JinjaFailure.render("can't multiply sequence by non-int of type '\(values[1].typeName)'")
        }
        var separators: (String, String)?
        switch values[2] {
        case .none: break
        case .list(let sequence), .tuple(let sequence):
            guard sequence.items.count == 2, let item = sequence.items[0].text, let key = sequence.items[1].text else {
                throw JinjaFailure.render("separators must be a pair of strings")
            }
            separators = (item, key)
        default: throw JinjaFailure.render("separators must be a pair of strings")
        }
        let encoder = PythonJSON(
            ensureASCII: values[0].isTrue, indent: indent, separators: separators, sortKeys: values[3].isTrue,
            maxBytes: interpreter.limits.maxOutputBytes)
        return try interpreter.string(try encoder.dumps(value))
    }

    /// Jinja's `|int`: `int(value)` (strings in `base`), else `int(float(value))`, else the default.
    private static func integer(_ value: JinjaValue, default fallback: JinjaValue, base: JinjaValue) throws -> JinjaValue {
        switch value {
        case .integer: return value
        case .boolean(let flag): return .integer(flag ? 1 : 0)
        case .float(let number):
            guard let truncated = Int(exactly: number.rounded(.towardZero)) else { return fallback }
            return .integer(truncated)
        case .undefined(let undefined): throw PythonOperators.undefinedError(undefined)
        case .string(let text), .markup(let text):
            guard case .integer(let radix) = base else { return fallback }
            if let parsed = parseInteger(text, radix: radix) { return .integer(parsed) }
            if let number = parseFloat(text), let truncated = Int(exactly: number.rounded(.towardZero)) { return .integer(truncated) }
            return fallback
        default:
            return fallback
        }
    }

    /// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between digits, and the base's prefix.
    private static func parseInteger(_ text: String, radix: Int) -> Int? {
        var body = Substring(PythonString.strip(text, characters: nil, leading: true, trailing: true))
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        var radix = radix
        let lowered = body.lowercased()
        for (prefix, prefixRadix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lowered.hasPrefix(prefix) && (radix == prefixRadix || radix == 0) {
            radix = prefixRadix
            body = body.dropFirst(2)
            if body.first == "_" { body = body.dropFirst() }
        }
        if radix == 0 { radix = 10 }
        guard (2...36).contains(radix), !body.isEmpty, body.first != "_", body.last != "_", !body.contains("__"), body.allSatisfy(\.isASCII) else {
            return nil
        }
        guard let magnitude = Int(String(body.filter { $0 != "_" }), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(text)`: whitespace, `_` between digits, `inf`, `nan`.
    private static func parseFloat(_ text: String) -> Double? {
        let body = PythonString.strip(text, characters: nil, leading: true, trailing: true)
        guard !body.isEmpty, body.allSatisfy(\.isASCII), !body.hasPrefix("_"), !body.hasSuffix("_"), !body.contains("__") else { return nil }
        let cleaned = body.filter { $0 != "_" }.lowercased()
        let negative = cleaned.hasPrefix("-")
        let unsigned = negative || cleaned.hasPrefix("+") ? String(cleaned.dropFirst()) : cleaned
        switch unsigned {
        case "inf", "infinity": return negative ? -.infinity : .infinity
        case "nan": return .nan
        default:
            guard unsigned.first != "+", unsigned.first != "-",
                unsigned.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-") })
            else { return nil }
            return Double(cleaned)
        }
    }

    private static func float(_ value: JinjaValue) throws -> JinjaValue? {
        switch value {
        case .float: return value
        case .integer(let number): return .float(Double(number))
        case .boolean(let flag): return .float(flag ? 1 : 0)
        case .undefined(let undefined): throw PythonOperators.undefinedError(undefined)
        case .string(let text), .markup(let text): return parseFloat(text).map { .float($0) }
        default: return nil
        }
    }

    private static func round(_ value: JinjaValue, _ values: [JinjaValue]) throws -> JinjaValue {
        guard case .integer(let precision) = values[0] else {
            throw JinjaFailure.render("'\(values[0].typeName)' object cannot be interpreted as an integer")
        }
        guard let method = values[1].text, ["common", "ceil", "floor"].contains(method) else {
            throw JinjaFailure.render("method must be common, ceil or floor")
        }
        guard let number = PythonOperators.Number(value) else {
            if case .undefined(let undefined) = value { throw PythonOperators.undefinedError(undefined) }
            throw JinjaFailure.render("type \(value.typeName) doesn't define __round__ method")
        }
        if method == "common", case .integer(let integer) = number, precision >= 0 { return .integer(integer) }
        let scale = pow(10, Double(precision))
        switch method {
        case "ceil": return .float((number.double * scale).rounded(.up) / scale)
        case "floor": return .float((number.double * scale).rounded(.down) / scale)
        default: return .float((number.double * scale).rounded(.toNearestOrEven) / scale)
        }
    }

    private static func batchOrSlice(_ name: String, _ value: JinjaValue, _ values: [JinjaValue], interpreter: JinjaInterpreter) throws -> JinjaValue {
        guard case .integer(let size) = values[0] else {
            throw JinjaFailure.render("'\(values[0].typeName)' object cannot be interpreted as an integer")
        }
        let items = try interpreter.elements(of: value)
        let fill: JinjaValue? = values[1].isNone ? nil : values[1]
        // A batch is padded to `size` and there are `size` slices: both bound what is built.
        if name == "slice" || fill != nil { try PythonOperators.checkCount(size, interpreter.limits) }
        var groups: [[JinjaValue]] = []
        if name == "batch" {
            guard size > 0 else { throw JinjaFailure.render("range() arg 3 must not be zero") }
            for start in stride(from: 0, to: items.count, by: size) {
                var group = Array(items[start..<min(start + size, items.count)])
                if let fill, group.count < size { group += Array(repeating: fill, count: size - group.count) }
                groups.append(group)
            }
        } else {
            guard size > 0 else { throw JinjaFailure.render("integer division or modulo by zero") }
            let perSlice = items.count / size
            let withExtra = items.count % size
            var offset = 0
            for index in 0..<size {
                let count = perSlice + (index < withExtra ? 1 : 0)
                var group = Array(items[offset..<(offset + count)])
                offset += count
                if let fill, index >= withExtra { group.append(fill) }
                groups.append(group)
            }
        }
        let lists = try groups.map { try interpreter.list($0) }
        return .iterator(JinjaIterator(typeName: "generator", elements: lists, depth: value.depth + 2))
    }
}

extension JinjaValue {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}
