/// The functions a chat template can call by name: Jinja's `range` (within the sandbox's bound),
/// `namespace` and `dict`, and transformers' `raise_exception` and `strftime_now`.
enum JinjaGlobals {
    static let names: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now", "lipsum", "cycler", "joiner"]

    static func call(_ name: String, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaValue {
        let maxNesting = interpreter.limits.maxNesting
        switch name {
        case "range":
            return .range(try range(arguments))
        case "namespace":
            let attributes = try dictionary(arguments, interpreter: interpreter)
            for key in attributes.keys {
                if case .string(let text) = key, text.hasPrefix("_") {
                    throw JinjaFailure.render(
                        "SecurityError: Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(text)'")
                }
            }
            let namespace = JinjaNamespace(attributes)
            interpreter.retainForCleanup(namespace)
            return .namespace(namespace)
        case "dict":
            return .dictionary(try dictionary(arguments, interpreter: interpreter))
        case "dict.fromkeys":
            let values = try arguments.bind([.required("iterable"), .optional("value", .none)], function: "dict.fromkeys()", keywordsAllowed: false)
            var result = JinjaDictionary()
            for key in try interpreter.elements(of: values[0]) { try result.set(key, values[1], maxNesting: maxNesting) }
            return .dictionary(result)
        case "raise_exception":
            let message = try arguments.bind([.required("message")], function: "raise_exception()")[0]
            throw TokenizerError.chatTemplate(.raised, message: try interpreter.str(message), position: nil)
        case "strftime_now":
            let format = try arguments.bind([.required("format")], function: "strftime_now()")[0]
            guard let text = format.text else {
                throw JinjaFailure.render("strftime() argument 1 must be str, not \(format.typeName)")
            }
            // A directive expands to at most a few dozen bytes; refuse formats whose result could pass the limit.
            try PythonOperators.checkLength(text.utf8.count * 64, interpreter.limits)
            return try interpreter.string(interpreter.clock.format(text))
        default:
            throw JinjaFailure.unsupported("the \(name)() function", at: nil)
        }
    }

    /// Python's `range`, refusing more than `TemplateLimits.maxRange` items as Jinja's sandbox does.
    private static func range(_ arguments: JinjaArguments) throws -> JinjaRange {
        guard arguments.keywords.isEmpty else { throw JinjaFailure.render("range() takes no keyword arguments") }
        let numbers = try arguments.positional.map { value -> Int in
            switch value {
            case .integer(let number): return number
            case .boolean(let flag): return flag ? 1 : 0
            default: throw JinjaFailure.render("'\(value.typeName)' object cannot be interpreted as an integer")
            }
        }
        let range: JinjaRange
        switch numbers.count {
        case 1: range = JinjaRange(start: 0, stop: numbers[0], step: 1)
        case 2: range = JinjaRange(start: numbers[0], stop: numbers[1], step: 1)
        case 3:
            guard numbers[2] != 0 else { throw JinjaFailure.render("range() arg 3 must not be zero") }
            range = JinjaRange(start: numbers[0], stop: numbers[1], step: numbers[2])
        default:
            throw JinjaFailure.render("range expected at most 3 arguments, got \(numbers.count)")
        }
        let isEmpty = range.step > 0 ? range.start >= range.stop : range.start <= range.stop
        guard !isEmpty else { return range }
        // Check the span before counting, so that the count cannot overflow.
        let (span, overflow) = range.stop.subtractingReportingOverflow(range.start)
        guard !overflow, span.magnitude / range.step.magnitude <= UInt(TemplateLimits.maxRange), range.count <= TemplateLimits.maxRange else {
            throw JinjaFailure.limit("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(TemplateLimits.maxRange)).")
        }
        return range
    }

    /// `dict(*args, **kwargs)`: a mapping or an iterable of pairs, then keyword entries.
    private static func dictionary(_ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> JinjaDictionary {
        let maxNesting = interpreter.limits.maxNesting
        guard arguments.positional.count <= 1 else {
            throw JinjaFailure.render("dict expected at most 1 argument, got \(arguments.positional.count)")
        }
        var result = JinjaDictionary()
        switch arguments.positional.first {
        case nil: break
        case .dictionary(let source)?: result = source
        // dict() asks its argument for `keys` first, which an undefined value refuses.
        case .undefined(let undefined)?: throw PythonOperators.undefinedError(undefined)
        case let source?:
            for (offset, pair) in try interpreter.elements(of: source).enumerated() {
                let parts = try interpreter.elements(of: pair)
                guard parts.count == 2 else {
                    throw JinjaFailure.render("dictionary update sequence element #\(offset) has length \(parts.count); 2 is required")
                }
                try result.set(parts[0], parts[1], maxNesting: maxNesting)
            }
        }
        for (key, value) in arguments.keywords { try result.set(.string(key), value, maxNesting: maxNesting) }
        return result
    }
}
