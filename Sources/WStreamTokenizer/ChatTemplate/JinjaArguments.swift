/// Evaluated arguments of a call, filter, test or method, bound to a parameter list the way Python
/// binds them: unknown keyword arguments and surplus positional ones are errors, never dropped.
struct JinjaArguments {
    var positional: [JinjaValue] = []
    var keywords: [(name: String, value: JinjaValue)] = []

    var isEmpty: Bool { positional.isEmpty && keywords.isEmpty }

    /// One parameter: its name and, for an optional one, its default.
    struct Parameter {
        let name: String
        let defaultValue: JinjaValue?

        static func required(_ name: String) -> Parameter { Parameter(name: name, defaultValue: nil) }
        static func optional(_ name: String, _ value: JinjaValue) -> Parameter { Parameter(name: name, defaultValue: value) }
    }

    /// The value of each parameter, in order.
    /// - Parameters:
    ///   - function: how error messages name the callee, e.g. `do_tojson()` or `str.split()`.
    ///   - keywordsAllowed: false for Python built-ins that take positional arguments only.
    /// - Throws: Python's `TypeError` wording for a surplus, missing, duplicated or unknown argument.
    func bind(_ parameters: [Parameter], function: String, keywordsAllowed: Bool = true) throws -> [JinjaValue] {
        guard positional.count <= parameters.count else {
            throw JinjaFailure.render(
                "\(function) takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s") (\(positional.count) given)")
        }
        if !keywordsAllowed, let first = keywords.first {
            throw JinjaFailure.render("\(function) takes no keyword arguments (got '\(first.name)')")
        }
        var values: [JinjaValue?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keywords {
            guard let position = parameters.firstIndex(where: { $0.name == name }) else {
                throw JinjaFailure.render("\(function) got an unexpected keyword argument '\(name)'")
            }
            guard values[position] == nil else { throw JinjaFailure.render("\(function) got multiple values for argument '\(name)'") }
            values[position] = value
        }
        return try zip(parameters, values).map { parameter, value in
            if let value { return value }
            guard let fallback = parameter.defaultValue else {
                throw JinjaFailure.render("\(function) missing required argument '\(parameter.name)'")
            }
            return fallback
        }
    }

    /// Fails unless there are no arguments at all.
    func bindNone(function: String) throws {
        _ = try bind([], function: function)
    }
}
