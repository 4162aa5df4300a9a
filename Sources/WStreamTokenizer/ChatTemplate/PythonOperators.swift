#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's operators on template values: equality across `int`/`float`/`bool`, ordering, `in`,
/// arithmetic with its type errors, and `+`/`*` on strings and lists within the size limits.
enum PythonOperators {
    // MARK: - Equality and ordering

    /// `a == b`.
    static func equal(_ left: JinjaValue, _ right: JinjaValue, depth: Int = 0) -> Bool {
        guard depth < PythonText.maxPrintDepth else { return false }
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(a), .string(b)), let (.string(a), .markup(b)), let (.markup(a), .string(b)), let (.markup(a), .markup(b)):
            return a.utf8.elementsEqual(b.utf8)
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
            return a.items.count == b.items.count && zip(a.items, b.items).allSatisfy { equal($0, $1, depth: depth + 1) }
        case let (.dictionary(a), .dictionary(b)):
            guard a.count == b.count else { return false }
            for (key, value) in zip(a.keys, a.values) {
                guard let other = try? b.value(for: key), equal(value, other, depth: depth + 1) else { return false }
            }
            return true
        case let (.range(a), .range(b)):
            return a.count == b.count && (a.count == 0 || (a.start == b.start && (a.count == 1 || a.step == b.step)))
        case let (.view(a), .view(b)):
            return a.kind == b.kind && equal(.list(JinjaSequence(sameLevelAs: a.elements, depth: 0)), .list(JinjaSequence(sameLevelAs: b.elements, depth: 0)), depth: depth + 1)
        case let (.namespace(a), .namespace(b)): return a === b
        case let (.iterator(a), .iterator(b)): return a === b
        case let (.loop(a), .loop(b)): return a === b
        default:
            guard let a = Number(left), let b = Number(right) else { return false }
            return a == b
        }
    }

    /// A number as Python compares it: booleans are integers, and an integer equals a float only when exactly equal.
    enum Number: Equatable, Comparable {
        case integer(Int)
        case float(Double)

        init?(_ value: JinjaValue) {
            switch value {
            case .boolean(let flag): self = .integer(flag ? 1 : 0)
            case .integer(let number): self = .integer(number)
            case .float(let number): self = .float(number)
            default: return nil
            }
        }

        var double: Double {
            switch self {
            case .integer(let number): Double(number)
            case .float(let number): number
            }
        }

        static func == (left: Number, right: Number) -> Bool {
            switch (left, right) {
            case let (.integer(a), .integer(b)): return a == b
            case let (.integer(a), .float(b)), let (.float(b), .integer(a)):
                guard let exact = Int(exactly: b) else { return false }
                return exact == a
            case let (.float(a), .float(b)): return a == b
            }
        }

        static func < (left: Number, right: Number) -> Bool {
            if case let .integer(a) = left, case let .integer(b) = right { return a < b }
            return left.double < right.double
        }
    }

    /// `a < b`.
    /// - Throws: Python's TypeError for values that have no order, an undefined error for an undefined operand.
    static func less(_ left: JinjaValue, _ right: JinjaValue, symbol: String = "<", depth: Int = 0) throws -> Bool {
        guard depth < PythonText.maxPrintDepth else { throw JinjaFailure.limit("values nest too deeply to compare") }
        switch (left, right) {
        case (.undefined(let undefined), _), (_, .undefined(let undefined)): throw undefinedError(undefined)
        case let (.string(a), .string(b)), let (.string(a), .markup(b)), let (.markup(a), .string(b)), let (.markup(a), .markup(b)):
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
            for (x, y) in zip(a.items, b.items) where !equal(x, y, depth: depth + 1) {
                return try less(x, y, depth: depth + 1)
            }
            return a.items.count < b.items.count
        default:
            guard let a = Number(left), let b = Number(right) else {
                throw JinjaFailure.render("'\(symbol)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
            }
            return a < b
        }
    }

    static func compare(_ left: JinjaValue, _ comparison: JinjaComparison, _ right: JinjaValue) throws -> Bool {
        switch comparison {
        case .equal: return equal(left, right)
        case .notEqual: return !equal(left, right)
        case .less: return try less(left, right, symbol: "<")
        case .lessOrEqual: return try less(left, right, symbol: "<=") || equal(left, right)
        case .greater: return try less(right, left, symbol: ">")
        case .greaterOrEqual: return try less(right, left, symbol: ">=") || equal(left, right)
        case .in: return try contains(right, left)
        case .notIn: return try !contains(right, left)
        }
    }

    /// A stable sort by `key`, as Python's `sorted` (which only uses `<`).
    static func sorted<Element>(_ elements: [Element], by key: (Element) throws -> JinjaValue, reverse: Bool) throws -> [Element] {
        let keys = try elements.map(key)
        var failure: (any Error)?
        let order = elements.indices.sorted { a, b in
            guard failure == nil else { return false }
            do {
                if try less(keys[a], keys[b]) { return !reverse }
                if try less(keys[b], keys[a]) { return reverse }
                return a < b
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return order.map { elements[$0] }
    }

    // MARK: - Membership

    /// `element in container`.
    static func contains(_ container: JinjaValue, _ element: JinjaValue) throws -> Bool {
        switch container {
        case .string(let text), .markup(let text):
            guard let needle = element.text else {
                throw JinjaFailure.render("'in <string>' requires string as left operand, not \(element.typeName)")
            }
            return PythonString.find(PythonString.scalars(needle), in: PythonString.scalars(text)) != nil
        case .list(let sequence), .tuple(let sequence):
            return sequence.items.contains { equal($0, element) }
        case .dictionary(let dictionary):
            return try dictionary.value(for: element) != nil
        case .view(let view):
            if view.kind == .keys { return try view.dictionary.value(for: element) != nil }
            return view.elements.contains { equal($0, element) }
        case .range(let range):
            let number: Int?
            switch Number(element) {
            case .integer(let value)?: number = value
            case .float(let value)?: number = Int(exactly: value)
            case nil: number = nil
            }
            guard let number, range.count > 0 else { return false }
            let (offset, overflow) = number.subtractingReportingOverflow(range.start)
            guard !overflow, offset.isMultiple(of: range.step) else { return false }
            let (position, divideOverflow) = offset.dividedReportingOverflow(by: range.step)
            return !divideOverflow && (0..<range.count).contains(position)
        case .undefined:
            return false
        case .iterator(let iterator):
            while let next = try iterator.next() { if equal(next, element) { return true } }
            return false
        default:
            throw JinjaFailure.render("argument of type '\(container.typeName)' is not iterable")
        }
    }

    // MARK: - Arithmetic

    static func undefinedError(_ undefined: JinjaUndefined) -> TokenizerError {
        JinjaFailure.render(undefined.isUnsafe ? "SecurityError: \(undefined.hint)" : undefined.hint)
    }

    private static func unsupported(_ symbol: String, _ left: JinjaValue, _ right: JinjaValue) -> TokenizerError {
        JinjaFailure.render("unsupported operand type(s) for \(symbol): '\(left.typeName)' and '\(right.typeName)'")
    }

    private static func overflow() -> TokenizerError {
        JinjaFailure.unsupported("integer arithmetic beyond 64 bits (Python's integers are unbounded)", at: nil)
    }

    static func binary(_ operation: JinjaBinaryOperator, _ left: JinjaValue, _ right: JinjaValue, limits: TemplateLimits) throws -> JinjaValue {
        if case .undefined(let undefined) = left { throw undefinedError(undefined) }
        if case .undefined(let undefined) = right { throw undefinedError(undefined) }
        switch operation {
        case .add: return try add(left, right, limits: limits)
        case .multiply: return try multiply(left, right, limits: limits)
        case .modulo:
            if let text = left.text {
                let formatted = try PythonFormat.percent(text, left.isMarkup ? escapedForMarkup(right) : right, maxBytes: limits.maxOutputBytes)
                return left.isMarkup ? .markup(formatted) : .string(formatted)
            }
            fallthrough
        default:
            guard let a = Number(left), let b = Number(right) else { throw unsupported(operation.rawValue, left, right) }
            return try arithmetic(operation, a, b)
        }
    }

    /// markupsafe escapes the string arguments of `Markup % arguments`.
    private static func escapedForMarkup(_ arguments: JinjaValue) -> JinjaValue {
        switch arguments {
        case .string(let text): return .markup(PythonText.escapeHTML(text))
        case .tuple(let sequence): return .tuple(JinjaSequence(sameLevelAs: sequence.items.map(escapedForMarkup), depth: sequence.depth))
        default: return arguments
        }
    }

    private static func add(_ left: JinjaValue, _ right: JinjaValue, limits: TemplateLimits) throws -> JinjaValue {
        switch (left, right) {
        case let (.string(a), .string(b)):
            try checkLength(a.utf8.count + b.utf8.count, limits)
            return .string(a + b)
        case let (.markup(a), .string(b)), let (.markup(a), .markup(b)):
            let tail = right.isMarkup ? b : PythonText.escapeHTML(b)
            try checkLength(a.utf8.count + tail.utf8.count, limits)
            return .markup(a + tail)
        case let (.string(a), .markup(b)):
            let head = PythonText.escapeHTML(a)
            try checkLength(head.utf8.count + b.utf8.count, limits)
            return .markup(head + b)
        case let (.list(a), .list(b)):
            try checkCount(a.items.count + b.items.count, limits)
            return .list(JinjaSequence(sameLevelAs: a.items + b.items, depth: max(a.depth, b.depth)))
        case let (.tuple(a), .tuple(b)):
            try checkCount(a.items.count + b.items.count, limits)
            return .tuple(JinjaSequence(sameLevelAs: a.items + b.items, depth: max(a.depth, b.depth)))
        case (.string, _), (.markup, _), (.list, _), (.tuple, _):
            guard Number(left) == nil else { break }
            let name = left.typeName == "Markup" ? "str" : left.typeName
            throw JinjaFailure.render("can only concatenate \(name) (not \"\(right.typeName)\") to \(name)")
        default:
            break
        }
        guard let a = Number(left), let b = Number(right) else { throw unsupported("+", left, right) }
        return try arithmetic(.add, a, b)
    }

    private static func multiply(_ left: JinjaValue, _ right: JinjaValue, limits: TemplateLimits) throws -> JinjaValue {
        func repeated(_ value: JinjaValue, _ count: Int) throws -> JinjaValue? {
            let times = max(0, count)
            switch value {
            case .string(let text), .markup(let text):
                let (total, overflow) = text.utf8.count.multipliedReportingOverflow(by: times)
                guard !overflow else { throw JinjaFailure.limit("a string longer than \(limits.maxOutputBytes) bytes") }
                try checkLength(total, limits)
                let result = String(repeating: text, count: times)
                return value.isMarkup ? .markup(result) : .string(result)
            case .list(let sequence), .tuple(let sequence):
                let (total, overflow) = sequence.items.count.multipliedReportingOverflow(by: times)
                guard !overflow else { throw JinjaFailure.limit("a collection of more than \(limits.maxCollectionCount) elements") }
                try checkCount(total, limits)
                let items = Array([[JinjaValue]](repeating: sequence.items, count: times).joined())
                let result = JinjaSequence(sameLevelAs: items, depth: sequence.depth)
                if case .list = value { return .list(result) }
                return .tuple(result)
            default:
                return nil
            }
        }
        if case .integer(let count)? = Number(right).flatMap(integerOnly), let result = try repeated(left, count) { return result }
        if case .integer(let count)? = Number(left).flatMap(integerOnly), let result = try repeated(right, count) { return result }
        guard let a = Number(left), let b = Number(right) else {
            if left.text != nil || right.text != nil, Number(left) != nil || Number(right) != nil {
                throw JinjaFailure.render("can't multiply sequence by non-int of type '\(Number(left) != nil ? left.typeName : right.typeName)'")
            }
            throw unsupported("*", left, right)
        }
        return try arithmetic(.multiply, a, b)
    }

    private static func integerOnly(_ number: Number) -> Number? {
        if case .integer = number { return number }
        return nil
    }

    static func arithmetic(_ operation: JinjaBinaryOperator, _ left: Number, _ right: Number) throws -> JinjaValue {
        if case let .integer(a) = left, case let .integer(b) = right {
            switch operation {
            case .add: return try checked(a.addingReportingOverflow(b))
            case .subtract: return try checked(a.subtractingReportingOverflow(b))
            case .multiply: return try checked(a.multipliedReportingOverflow(by: b))
            case .divide:
                guard b != 0 else { throw JinjaFailure.render("division by zero") }
                return .float(Double(a) / Double(b))
            case .floorDivide:
                guard b != 0 else { throw JinjaFailure.render("integer division or modulo by zero") }
                guard !(a == .min && b == -1) else { throw overflow() }
                let quotient = a / b
                return .integer(quotient * b != a && (a < 0) != (b < 0) ? quotient - 1 : quotient)
            case .modulo:
                guard b != 0 else { throw JinjaFailure.render("integer division or modulo by zero") }
                guard !(a == .min && b == -1) else { return .integer(0) }
                let remainder = a % b
                return .integer(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
            case .power:
                guard b >= 0 else { return .float(pow(Double(a), Double(b))) }
                var result = 1
                var base = a
                var exponent = b
                while exponent > 0 {
                    if exponent & 1 == 1 { result = try checkedInt(result.multipliedReportingOverflow(by: base)) }
                    exponent >>= 1
                    if exponent > 0 { base = try checkedInt(base.multipliedReportingOverflow(by: base)) }
                }
                return .integer(result)
            }
        }
        let a = left.double
        let b = right.double
        switch operation {
        case .add: return .float(a + b)
        case .subtract: return .float(a - b)
        case .multiply: return .float(a * b)
        case .divide:
            guard b != 0 else { throw JinjaFailure.render("float division by zero") }
            return .float(a / b)
        case .floorDivide:
            guard b != 0 else { throw JinjaFailure.render("float floor division by zero") }
            return .float(floorModulo(a, b).quotient)
        case .modulo:
            guard b != 0 else { throw JinjaFailure.render("float modulo") }
            return .float(floorModulo(a, b).remainder)
        case .power:
            if a == 0 && b < 0 { throw JinjaFailure.render("0.0 cannot be raised to a negative power") }
            let result = pow(a, b)
            if result.isNaN && !a.isNaN && !b.isNaN { throw JinjaFailure.render("math domain error") }
            return .float(result)
        }
    }

    /// Python's float `divmod`: the remainder takes the divisor's sign.
    private static func floorModulo(_ a: Double, _ b: Double) -> (quotient: Double, remainder: Double) {
        var remainder = a.truncatingRemainder(dividingBy: b)
        var quotient = (a - remainder) / b
        if remainder != 0, (remainder < 0) != (b < 0) {
            remainder += b
            quotient -= 1
        }
        if remainder == 0 { remainder = b < 0 ? -0.0 : 0.0 }
        let floored = quotient.rounded(.down)
        if quotient - floored > 0.5 { quotient = floored + 1 } else { quotient = floored }
        return (quotient, remainder)
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
        .integer(try checkedInt(result))
    }

    private static func checkedInt(_ result: (partialValue: Int, overflow: Bool)) throws -> Int {
        guard !result.overflow else { throw overflow() }
        return result.partialValue
    }

    static func checkLength(_ bytes: Int, _ limits: TemplateLimits) throws {
        try checkLength(bytes, maxBytes: limits.maxOutputBytes)
    }

    static func checkLength(_ bytes: Int, maxBytes: Int) throws {
        guard bytes <= maxBytes else { throw JinjaFailure.limit("a string longer than \(maxBytes) bytes") }
    }

    static func checkCount(_ count: Int, _ limits: TemplateLimits) throws {
        try checkCount(count, maxCount: limits.maxCollectionCount)
    }

    static func checkCount(_ count: Int, maxCount: Int) throws {
        guard count <= maxCount else { throw JinjaFailure.limit("a collection of more than \(maxCount) elements") }
    }

    /// Unary `-` and `+`.
    static func negate(_ value: JinjaValue, sign: String) throws -> JinjaValue {
        switch value {
        case .undefined(let undefined): throw undefinedError(undefined)
        case .boolean(let flag): return .integer(sign == "-" ? (flag ? -1 : 0) : (flag ? 1 : 0))
        case .integer(let number):
            guard sign == "-" else { return value }
            guard number != .min else { throw overflow() }
            return .integer(-number)
        case .float(let number): return .float(sign == "-" ? -number : number)
        default: throw JinjaFailure.render("bad operand type for unary \(sign): '\(value.typeName)'")
        }
    }
}

extension JinjaValue {
    var isMarkup: Bool {
        if case .markup = self { return true }
        return false
    }
}
