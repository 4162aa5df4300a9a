/// Renders parsed template nodes.
struct JinjaInterpreter {
    private enum Flow { case normal, breakLoop, continueLoop }

    /// Innermost last; a `for` body gets its own scope, as in Jinja.
    private var scopes: [[String: JinjaValue]]
    private(set) var output = ""

    init(variables: [String: JinjaValue]) { scopes = [variables] }

    mutating func render(_ nodes: [JinjaNode]) throws {
        _ = try run(nodes)
    }

    private func evaluationError(_ message: String) -> TokenizerError { .chatTemplateEvaluation(message: message) }

    private mutating func run(_ nodes: [JinjaNode]) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .output(let expression): output += try evaluate(expression).text
            case .conditional(let branches, let otherwise):
                let chosen = try branches.first { try evaluate($0.0).isTrue }?.1 ?? otherwise
                let flow = try run(chosen)
                if flow != .normal { return flow }
            case .forLoop(let names, let iterable, let condition, let body, let otherwise):
                try loop(names, over: evaluate(iterable), condition: condition, body: body, otherwise: otherwise)
            case .assignment(let name, let attribute, let value):
                let result = try evaluate(value)
                if let attribute {
                    guard case .namespace(let namespace) = lookup(name) else {
                        throw evaluationError("cannot set \(name).\(attribute): \(name) is not a namespace")
                    }
                    namespace.values[attribute] = result
                } else {
                    scopes[scopes.count - 1][name] = result
                }
            case .breakLoop: return .breakLoop
            case .continueLoop: return .continueLoop
            }
        }
        return .normal
    }

    private mutating func loop(
        _ names: [String], over iterable: JinjaValue, condition: JinjaExpression?, body: [JinjaNode], otherwise: [JinjaNode]
    ) throws {
        let items: [JinjaValue]
        switch iterable {
        case .list(let values): items = values
        case .dictionary(let entries): items = entries.map { .string($0.0) }
        case .string(let text): items = text.map { .string(String($0)) }
        case .undefined, .none: items = []
        default: throw evaluationError("cannot loop over \(iterable.representation)")
        }
        var selected: [JinjaValue] = []
        for item in items {
            if let condition {
                scopes.append(bind(names, item))
                defer { scopes.removeLast() }
                guard try evaluate(condition).isTrue else { continue }
            }
            selected.append(item)
        }
        if selected.isEmpty {
            _ = try run(otherwise)
            return
        }
        for (index, item) in selected.enumerated() {
            var scope = bind(names, item)
            scope["loop"] = .dictionary([
                ("index", .integer(index + 1)), ("index0", .integer(index)),
                ("revindex", .integer(selected.count - index)), ("revindex0", .integer(selected.count - index - 1)),
                ("first", .boolean(index == 0)), ("last", .boolean(index == selected.count - 1)),
                ("length", .integer(selected.count)),
                ("previtem", index > 0 ? selected[index - 1] : .undefined),
                ("nextitem", index + 1 < selected.count ? selected[index + 1] : .undefined),
            ])
            scopes.append(scope)
            let flow = try run(body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }

    /// The loop variables for one item; several names unpack a pair (`for key, value in x.items()`).
    private func bind(_ names: [String], _ item: JinjaValue) -> [String: JinjaValue] {
        guard names.count > 1 else { return [names[0]: item] }
        guard case .list(let parts) = item else { return [names[0]: item] }
        return Dictionary(zip(names, parts + Array(repeating: .undefined, count: max(0, names.count - parts.count))),
            uniquingKeysWith: { first, _ in first })
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let value = scope[name] { return value } }
        return .undefined
    }

    // MARK: - Expressions

    private mutating func evaluate(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression {
        case .string(let value): return .string(value)
        case .integer(let value): return .integer(value)
        case .number(let value): return .number(value)
        case .boolean(let value): return .boolean(value)
        case .none: return .none
        case .variable(let name): return lookup(name)
        case .list(let items): return .list(try items.map { try evaluate($0) })
        case .dictionary(let items): return .dictionary(try items.map { (try evaluate($0.0).text, try evaluate($0.1)) })
        case .attribute(let base, let name): return try evaluate(base).member(name)
        case .item(let base, let key): return try item(evaluate(base), evaluate(key))
        case .slice(let base, let start, let end):
            return try slice(evaluate(base), start.map { try evaluate($0) }, end.map { try evaluate($0) })
        case .call(let callee, let arguments, let keywords):
            let values = try arguments.map { try evaluate($0) }
            let named = try keywords.map { ($0.0, try evaluate($0.1)) }
            return try call(callee, values, named)
        case .filter(let base, let name, let arguments):
            return try filter(name, evaluate(base), arguments.map { try evaluate($0) })
        case .test(let base, let name, let negated):
            let result = try test(name, evaluate(base))
            return .boolean(negated ? !result : result)
        case .unary(let op, let operand):
            let value = try evaluate(operand)
            if op == "not" { return .boolean(!value.isTrue) }
            switch value {
            case .integer(let number): return .integer(-number)
            case .number(let number): return .number(-number)
            default: throw evaluationError("cannot negate \(value.representation)")
            }
        case .binary("and", let left, let right):
            let first = try evaluate(left)
            return first.isTrue ? try evaluate(right) : first
        case .binary("or", let left, let right):
            let first = try evaluate(left)
            return first.isTrue ? first : try evaluate(right)
        case .binary(let op, let left, let right):
            return try binary(op, evaluate(left), evaluate(right))
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition).isTrue { return try evaluate(value) }
            return try otherwise.map { try evaluate($0) } ?? .undefined
        }
    }

    private func binary(_ op: String, _ left: JinjaValue, _ right: JinjaValue) throws -> JinjaValue {
        switch (op, left, right) {
        case ("==", _, _): return .boolean(left == right)
        case ("!=", _, _): return .boolean(!(left == right))
        case ("~", _, _): return .string(left.text + right.text)
        case ("in", _, .string(let text)): return .boolean(text.contains(left.text))
        case ("in", _, .list(let items)): return .boolean(items.contains { $0 == left })
        case ("in", _, .dictionary(let items)): return .boolean(items.contains { $0.0 == left.text })
        case ("in", _, .undefined), ("in", _, .none): return .boolean(false)
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .list(let a), .list(let b)): return .list(a + b)
        case let ("<", .string(a), .string(b)): return .boolean(a < b)
        case let (">", .string(a), .string(b)): return .boolean(a > b)
        case let ("<=", .string(a), .string(b)): return .boolean(a <= b)
        case let (">=", .string(a), .string(b)): return .boolean(a >= b)
        case let ("*", .string(text), .integer(count)): return .string(String(repeating: text, count: max(0, count)))
        case let (_, .integer(a), .integer(b)):
            switch op {
            case "+": return .integer(a + b)
            case "-": return .integer(a - b)
            case "*": return .integer(a * b)
            case "/": return .number(Double(a) / Double(b))
            case "//", "%":
                guard b != 0 else { throw evaluationError("division by zero") }
                // Python floors, so the remainder takes the divisor's sign.
                let quotient = Int((Double(a) / Double(b)).rounded(.down))
                return .integer(op == "//" ? quotient : a - quotient * b)
            default: return .boolean(compare(op, Double(a), Double(b)))
            }
        default:
            guard let a = Self.number(left), let b = Self.number(right) else {
                throw evaluationError("cannot apply \(op) to \(left.representation) and \(right.representation)")
            }
            switch op {
            case "+": return .number(a + b)
            case "-": return .number(a - b)
            case "*": return .number(a * b)
            case "/": return .number(a / b)
            default: return .boolean(compare(op, a, b))
            }
        }
    }

    private static func number(_ value: JinjaValue) -> Double? {
        switch value {
        case .integer(let number): Double(number)
        case .number(let number): number
        case .boolean(let flag): flag ? 1 : 0
        default: nil
        }
    }

    private func compare(_ op: String, _ a: Double, _ b: Double) -> Bool {
        switch op {
        case "<": a < b
        case ">": a > b
        case "<=": a <= b
        default: a >= b
        }
    }

    private func item(_ base: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (base, key) {
        case let (.list(items), .integer(index)):
            let position = index < 0 ? items.count + index : index
            return items.indices.contains(position) ? items[position] : .undefined
        case let (.string(text), .integer(index)):
            let characters = Array(text)
            let position = index < 0 ? characters.count + index : index
            return characters.indices.contains(position) ? .string(String(characters[position])) : .undefined
        default: return base.member(key.text)
        }
    }

    private func slice(_ base: JinjaValue, _ start: JinjaValue?, _ end: JinjaValue?) throws -> JinjaValue {
        func bounds(_ count: Int) -> Range<Int> {
            func clamp(_ value: JinjaValue?, _ fallback: Int) -> Int {
                guard case .integer(let index) = value else { return fallback }
                return min(max(index < 0 ? count + index : index, 0), count)
            }
            let lower = clamp(start, 0)
            return lower..<max(lower, clamp(end, count))
        }
        switch base {
        case .list(let items): return .list(Array(items[bounds(items.count)]))
        case .string(let text):
            let characters = Array(text)
            return .string(String(characters[bounds(characters.count)]))
        default: throw evaluationError("cannot slice \(base.representation)")
        }
    }

    private mutating func call(_ callee: JinjaExpression, _ arguments: [JinjaValue], _ keywords: [(String, JinjaValue)]) throws
        -> JinjaValue
    {
        if case .attribute(let base, let method) = callee {
            return try JinjaMethods.call(method, on: evaluate(base), arguments)
        }
        guard case .variable(let name) = callee else { throw evaluationError("only named functions can be called") }
        switch name {
        case "raise_exception": throw TokenizerError.chatTemplateRaised(message: arguments.first?.text ?? "")
        case "namespace":
            var values: [String: JinjaValue] = [:]
            for (key, value) in keywords { values[key] = value }
            return .namespace(JinjaNamespace(values))
        case "range":
            let numbers = arguments.compactMap { if case .integer(let value) = $0 { value } else { nil } }
            guard numbers.count == arguments.count, (1...2).contains(numbers.count) else {
                throw evaluationError("range() takes one or two integers")
            }
            let (lower, upper) = numbers.count == 1 ? (0, numbers[0]) : (numbers[0], numbers[1])
            return .list(lower < upper ? (lower..<upper).map { .integer($0) } : [])
        default: throw evaluationError("unknown function \(name)()")
        }
    }

    private func filter(_ name: String, _ value: JinjaValue, _ arguments: [JinjaValue]) throws -> JinjaValue {
        switch name {
        case "trim": return .string(JinjaMethods.strip(value.text))
        case "upper", "lower", "title", "capitalize", "replace": return try JinjaMethods.call(name, on: .string(value.text), arguments)
        case "length", "count":
            switch value {
            case .list(let items): return .integer(items.count)
            case .dictionary(let items): return .integer(items.count)
            case .string(let text): return .integer(text.count)
            default: return .integer(0)
            }
        case "default", "d":
            if case .undefined = value { return arguments.first ?? .string("") }
            if arguments.count > 1, arguments[1].isTrue, !value.isTrue { return arguments[0] }
            return value
        case "tojson": return .string(value.json)
        case "string": return .string(value.text)
        case "int": return .integer(Int(value.text) ?? Self.number(value).map { Int($0) } ?? 0)
        case "list":
            if case .string(let text) = value { return .list(text.map { .string(String($0)) }) }
            return value
        case "first", "last":
            guard case .list(let items) = value else { return .undefined }
            return (name == "first" ? items.first : items.last) ?? .undefined
        case "reverse":
            if case .list(let items) = value { return .list(items.reversed()) }
            return .string(String(value.text.reversed()))
        case "join":
            guard case .list(let items) = value else { return .string(value.text) }
            return .string(items.map(\.text).joined(separator: arguments.first?.text ?? ""))
        case "items": return try JinjaMethods.call("items", on: value, [])
        default: throw evaluationError("unsupported filter |\(name)")
        }
    }

    private func test(_ name: String, _ value: JinjaValue) throws -> Bool {
        switch (name, value) {
        case ("defined", .undefined): false
        case ("defined", _): true
        case ("undefined", .undefined): true
        case ("undefined", _): false
        case ("none", .none): true
        case ("string", .string): true
        case ("number", .integer), ("number", .number), ("integer", .integer), ("float", .number): true
        case ("boolean", .boolean): true
        case ("true", .boolean(true)), ("false", .boolean(false)): true
        case ("mapping", .dictionary), ("mapping", .namespace): true
        case ("sequence", .list), ("sequence", .string), ("iterable", .list), ("iterable", .string), ("iterable", .dictionary): true
        case ("even", .integer(let number)): number % 2 == 0
        case ("odd", .integer(let number)): number % 2 != 0
        case ("none", _), ("string", _), ("number", _), ("integer", _), ("float", _), ("boolean", _), ("true", _),
            ("false", _), ("mapping", _), ("sequence", _), ("iterable", _), ("even", _), ("odd", _):
            false
        default: throw evaluationError("unsupported test 'is \(name)'")
        }
    }
}
