/// Jinja's tests (`value is defined`, `x is divisibleby 3`, `a is equalto b`), with the same answers
/// for Python's types, including the surprising ones (`undefined is sequence`, `true is number`).
enum JinjaTests {
    private static let names: Set<String> = [
        "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false", "true", "integer",
        "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable", "callable", "sameas", "escaped", "in",
        "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan", "ge", ">=", "<", "lt", "lessthan", "<=", "le",
    ]

    /// Whether Jinja has a test called `name` (all of them are implemented).
    static func exists(_ name: String) -> Bool { names.contains(name) }

    static func apply(_ name: String, to value: JinjaValue, _ arguments: JinjaArguments, interpreter: JinjaInterpreter) throws -> Bool {
        guard exists(name) else { throw JinjaFailure.render("No test named '\(name)'.") }
        let function = "the '\(name)' test"
        func argument() throws -> JinjaValue {
            try arguments.bind([.required("other")], function: function, keywordsAllowed: false)[0]
        }
        func none() throws { try arguments.bindNone(function: function) }
        switch name {
        case "defined": try none(); return !value.isUndefined
        case "undefined": try none(); return value.isUndefined
        case "none": try none(); if case .none = value { return true } else { return false }
        case "boolean": try none(); if case .boolean = value { return true } else { return false }
        case "true": try none(); if case .boolean(true) = value { return true } else { return false }
        case "false": try none(); if case .boolean(false) = value { return true } else { return false }
        case "integer": try none(); if case .integer = value { return true } else { return false }
        case "float": try none(); if case .float = value { return true } else { return false }
        case "number": try none(); return PythonOperators.Number(value) != nil
        case "string": try none(); return value.text != nil
        case "escaped": try none(); return value.isMarkup
        case "mapping": try none(); if case .dictionary = value { return true } else { return false }
        case "sequence":
            try none()
            switch value {
            case .list, .tuple, .string, .markup, .dictionary, .range, .undefined: return true
            default: return false
            }
        case "iterable":
            try none()
            switch value {
            case .none, .boolean, .integer, .float, .namespace, .callable: return false
            default: return true
            }
        case "callable":
            try none()
            switch value {
            case .callable, .undefined, .loop: return true
            default: return false
            }
        case "odd", "even":
            try none()
            let remainder = try PythonOperators.binary(.modulo, value, .integer(2), limits: interpreter.limits)
            return PythonOperators.equal(remainder, .integer(name == "odd" ? 1 : 0))
        case "divisibleby":
            let divisor = try arguments.bind([.required("num")], function: function)[0]
            let remainder = try PythonOperators.binary(.modulo, value, divisor, limits: interpreter.limits)
            return PythonOperators.equal(remainder, .integer(0))
        case "lower", "upper":
            try none()
            let text = try interpreter.str(value)
            return name == "lower" ? PythonString.isLower(text) : PythonString.isUpper(text)
        case "filter": try none(); return value.text.map(JinjaFilters.exists) ?? false
        case "test": try none(); return value.text.map(exists) ?? false
        case "sameas": return sameObject(value, try argument())
        case "in": return try PythonOperators.contains(try argument(), value)
        case "==", "eq", "equalto": return PythonOperators.equal(value, try argument())
        case "!=", "ne": return !PythonOperators.equal(value, try argument())
        case ">", "gt", "greaterthan": return try PythonOperators.compare(value, .greater, try argument())
        case ">=", "ge": return try PythonOperators.compare(value, .greaterOrEqual, try argument())
        case "<", "lt", "lessthan": return try PythonOperators.compare(value, .less, try argument())
        default: return try PythonOperators.compare(value, .lessOrEqual, try argument())
        }
    }

    /// Python's `is`: singletons and shared objects are identical; equal small integers and identical
    /// strings are too, as CPython caches them.
    private static func sameObject(_ left: JinjaValue, _ right: JinjaValue) -> Bool {
        switch (left, right) {
        case (.none, .none): return true
        case let (.boolean(a), .boolean(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b && (-5...256).contains(a)
        case let (.namespace(a), .namespace(b)): return a === b
        case let (.iterator(a), .iterator(b)): return a === b
        case let (.loop(a), .loop(b)): return a === b
        default: return false
        }
    }
}
