/// Expression evaluation: names through the scope chain, Jinja's sandboxed attribute and item lookup,
/// slices, calls, and Python's operators.
extension JinjaInterpreter {
    func evaluate(_ expression: JinjaExpression, in frame: JinjaFrame) throws -> JinjaValue {
        try charge()
        return try nested {
            try located(expression.position) { try evaluateKind(expression, in: frame) }
        }
    }

    private func evaluateKind(_ expression: JinjaExpression, in frame: JinjaFrame) throws -> JinjaValue {
        switch expression.kind {
        case .constant(let constant):
            switch constant {
            case .string(let text): return .string(text)
            case .integer(let number): return .integer(number)
            case .float(let number): return .float(number)
            case .boolean(let flag): return .boolean(flag)
            case .none: return .none
            }
        case .name(let name):
            return lookup(name, in: frame)
        case .list(let items):
            return try list(items.map { try evaluate($0, in: frame) })
        case .tuple(let items):
            return try tuple(items.map { try evaluate($0, in: frame) })
        case .dictionary(let pairs):
            var dictionary = JinjaDictionary()
            for pair in pairs {
                let key = try evaluate(pair.key, in: frame)
                try dictionary.set(key, try evaluate(pair.value, in: frame), maxNesting: limits.maxNesting)
            }
            return .dictionary(dictionary)
        case .attribute(let base, let name):
            return try attribute(of: evaluate(base, in: frame), name)
        case .item(let base, let key):
            let container = try evaluate(base, in: frame)
            if case .slice(let start, let stop, let step) = key.kind {
                let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, in: frame) } }
                return try slice(container, start: bounds[0], stop: bounds[1], step: bounds[2])
            }
            return try item(of: container, try evaluate(key, in: frame))
        case .slice:
            throw JinjaFailure.unsupported("a slice outside of a subscript", at: expression.position)
        case .call(let callee, let arguments):
            let function = try evaluate(callee, in: frame)
            return try call(function, try evaluateArguments(arguments, in: frame))
        case .filter(let base, let name, let arguments):
            guard let base else { throw JinjaFailure.syntax("a filter needs a value", at: expression.position) }
            return try applyFilter(name, to: try evaluate(base, in: frame), try evaluateArguments(arguments, in: frame))
        case .test(let base, let name, let arguments):
            return .boolean(try applyTest(name, to: try evaluate(base, in: frame), try evaluateArguments(arguments, in: frame)))
        case .not(let operand):
            return .boolean(!(try evaluate(operand, in: frame).isTrue))
        case .negate(let operand):
            return try PythonOperators.negate(try evaluate(operand, in: frame), sign: "-")
        case .plus(let operand):
            return try PythonOperators.negate(try evaluate(operand, in: frame), sign: "+")
        case .binary(let operation, let left, let right):
            let result = try PythonOperators.binary(operation, try evaluate(left, in: frame), try evaluate(right, in: frame), limits: limits)
            if let text = result.text { try charge(bytes: text.utf8.count) }
            return result
        case .and(let left, let right):
            let value = try evaluate(left, in: frame)
            return value.isTrue ? try evaluate(right, in: frame) : value
        case .or(let left, let right):
            let value = try evaluate(left, in: frame)
            return value.isTrue ? value : try evaluate(right, in: frame)
        case .concat(let operands):
            var text = ""
            for operand in operands {
                let value = try evaluate(operand, in: frame)
                text += try located(operand.position) { try str(value) }
                try PythonOperators.checkLength(text.utf8.count, limits)
            }
            return try string(text)
        case .compare(let first, let rest):
            var left = try evaluate(first, in: frame)
            for (comparison, expression) in rest {
                let right = try evaluate(expression, in: frame)
                guard try located(expression.position, { try PythonOperators.compare(left, comparison, right) }) else {
                    return .boolean(false)
                }
                left = right
            }
            return .boolean(true)
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition, in: frame).isTrue { return try evaluate(value, in: frame) }
            if let otherwise { return try evaluate(otherwise, in: frame) }
            return .undefined(
                "the inline if-expression on line \(expression.position.line) evaluated to false and no else section was defined.")
        }
    }

    func evaluateArguments(_ list: JinjaArgumentList, in frame: JinjaFrame) throws -> JinjaArguments {
        var arguments = JinjaArguments()
        arguments.positional = try list.positional.map { try evaluate($0, in: frame) }
        for (name, expression) in list.keywords {
            arguments.keywords.append((name, try evaluate(expression, in: frame)))
        }
        if let spread = list.spreadPositional {
            arguments.positional += try located(spread.position) { try elements(of: try evaluate(spread, in: frame)) }
        }
        if let spread = list.spreadKeywords {
            guard case .dictionary(let dictionary) = try evaluate(spread, in: frame) else {
                throw JinjaFailure.render("argument after ** must be a mapping", at: spread.position)
            }
            for (key, value) in zip(dictionary.keys, dictionary.values) {
                guard case .string(let name) = key else { throw JinjaFailure.render("keywords must be strings", at: spread.position) }
                arguments.keywords.append((name, value))
            }
        }
        return arguments
    }

    // MARK: - Names, attributes, items

    func lookup(_ name: String, in frame: JinjaFrame) -> JinjaValue {
        if let value = frame.lookup(name) { return value }
        if JinjaGlobals.names.contains(name) { return .callable(.global(name)) }
        return .undefined("'\(name)' is undefined")
    }

    /// `value.name` in Jinja's sandbox: a Python attribute first (methods; those that modify a list or
    /// dictionary are refused), then the item of that name.
    func attribute(of value: JinjaValue, _ name: String) throws -> JinjaValue {
        if case .undefined(let undefined) = value { throw PythonOperators.undefinedError(undefined) }
        if name.hasPrefix("__") && name.hasSuffix("__") {
            return .undefined(JinjaUndefined(hint: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe.", isUnsafe: true))
        }
        switch JinjaMethods.lookup(name, on: value) {
        case .method: return .callable(.method(receiver: value, name: name))
        case .unsafe:
            return .undefined(JinjaUndefined(hint: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe.", isUnsafe: true))
        case .absent: break
        }
        switch value {
        case .dictionary(let dictionary):
            if let found = dictionary.value(forString: name) { return found }
        case .namespace(let namespace):
            if let found = namespace.attributes.value(forString: name) { return found }
        case .loop(let loop):
            if let found = loop.attribute(name) { return found }
        case .range(let range):
            switch name {
            case "start": return .integer(range.start)
            case "stop": return .integer(range.stop)
            case "step": return .integer(range.step)
            default: break
            }
        case .callable(.global("dict")) where name == "fromkeys":
            return .callable(.global("dict.fromkeys"))
        default:
            break
        }
        return .undefined(Self.missingAttribute(name, of: value))
    }

    /// Jinja's message for a missing attribute: `'dict object' has no attribute 'x'`.
    static func missingAttribute(_ name: String, of value: JinjaValue) -> String {
        let owner = value.typeName == "NoneType" ? "None" : "\(value.typeName) object"
        return "'\(owner)' has no attribute '\(name)'"
    }

    /// `value[key]` in Jinja's sandbox: the item first, then (for a string key) the attribute.
    func item(of value: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch value {
        case .undefined(let undefined):
            throw PythonOperators.undefinedError(undefined)
        case .dictionary(let dictionary):
            if let found = try? dictionary.value(for: key) { return found }
        case .list(let sequence), .tuple(let sequence):
            if let index = integerIndex(key), let position = Self.position(index, count: sequence.items.count) {
                return sequence.items[position]
            }
        case .string(let text), .markup(let text):
            if let index = integerIndex(key) {
                let scalars = Array(text.unicodeScalars)
                if let position = Self.position(index, count: scalars.count) {
                    return value.isMarkup ? .markup(String(scalars[position])) : .string(String(scalars[position]))
                }
            }
        case .range(let range):
            if let index = integerIndex(key), let position = Self.position(index, count: range.count), let element = range.element(position) {
                return .integer(element)
            }
        default:
            break
        }
        if case .string(let name) = key { return try attribute(of: value, name) }
        let owner = value.typeName == "NoneType" ? "None" : "\(value.typeName) object"
        return .undefined("\(owner) has no element \(PythonText.shortRepr(key))")
    }

    private func integerIndex(_ key: JinjaValue) -> Int? {
        switch key {
        case .integer(let number): number
        case .boolean(let flag): flag ? 1 : 0
        default: nil
        }
    }

    private static func position(_ index: Int, count: Int) -> Int? {
        let position = index < 0 ? index + count : index
        return (0..<count).contains(position) ? position : nil
    }

    /// `value[start:stop:step]` with Python's clamping. Jinja slices with Python's own subscript, not the
    /// sandbox's lookup, so a value that cannot be sliced is an error rather than undefined.
    func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        switch value {
        case .undefined(let undefined): throw PythonOperators.undefinedError(undefined)
        case .list, .tuple, .string, .markup, .range: break
        case .dictionary: throw JinjaFailure.render("unhashable type: 'slice'")
        default: throw JinjaFailure.render("'\(value.typeName)' object is not subscriptable")
        }
        func bound(_ part: JinjaValue?) throws -> Int? {
            switch part {
            case nil, .none?: return nil
            case .integer(let number)?: return number
            case .boolean(let flag)?: return flag ? 1 : 0
            default: throw JinjaFailure.render("slice indices must be integers or None or have an __index__ method")
            }
        }
        let first = try bound(start)
        let last = try bound(stop)
        let stride = try bound(step)
        let increment = stride ?? 1
        guard increment != 0 else { throw JinjaFailure.render("slice step cannot be zero") }
        /// Python's `slice.indices(count)`: the clamped start and stop.
        func clamped(count: Int) -> (start: Int, stop: Int) {
            let (lower, upper) = increment > 0 ? (0, count) : (-1, count - 1)
            func clamp(_ value: Int?, _ fallback: Int) -> Int {
                guard var value else { return fallback }
                if value < 0 { value += count }
                return min(max(value, lower), upper)
            }
            return (clamp(first, increment > 0 ? lower : upper), clamp(last, increment > 0 ? upper : lower))
        }
        func indices(count: Int) -> [Int] {
            var (index, end) = clamped(count: count)
            var result: [Int] = []
            while increment > 0 ? index < end : index > end {
                result.append(index)
                index += increment
            }
            return result
        }
        switch value {
        case .list(let sequence):
            return .list(JinjaSequence(sameLevelAs: indices(count: sequence.items.count).map { sequence.items[$0] }, depth: sequence.depth))
        case .tuple(let sequence):
            return .tuple(JinjaSequence(sameLevelAs: indices(count: sequence.items.count).map { sequence.items[$0] }, depth: sequence.depth))
        case .string(let text), .markup(let text):
            let scalars = Array(text.unicodeScalars)
            let result = PythonString.string(indices(count: scalars.count).map { scalars[$0] })
            return value.isMarkup ? .markup(result) : .string(result)
        case .range(let range):
            // Python slices a range into a range: range(start + i·step, start + j·step, step·k).
            let (start, stop) = clamped(count: range.count)
            let (step, overflow) = range.step.multipliedReportingOverflow(by: increment)
            guard !overflow, let first = range.element(start), let last = range.element(stop) else {
                throw JinjaFailure.unsupported("integer arithmetic beyond 64 bits", at: nil)
            }
            return .range(JinjaRange(start: first, stop: last, step: step))
        default:
            throw JinjaFailure.render("'\(value.typeName)' object is not subscriptable")
        }
    }

    // MARK: - Calls

    func call(_ function: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
        switch function {
        case .undefined(let undefined):
            throw PythonOperators.undefinedError(undefined)
        case .callable(.macro(let macro)):
            return try callMacro(macro, arguments)
        case .callable(.method(let receiver, let name)):
            return try JinjaMethods.call(name, on: receiver, arguments, interpreter: self)
        case .callable(.global(let name)):
            return try JinjaGlobals.call(name, arguments, interpreter: self)
        case .callable(.loop(let loop, let name)):
            return try callLoopMethod(loop, name, arguments)
        case .loop(let loop):
            return try callLoopMethod(loop, "", arguments)
        default:
            throw JinjaFailure.render("'\(function.typeName)' object is not callable")
        }
    }

    /// Binds arguments as Jinja's `Macro.__call__` does and renders the body in a new scope whose parent
    /// is the scope the macro was defined in.
    private func callMacro(_ macro: JinjaMacro, _ arguments: JinjaArguments) throws -> JinjaValue {
        let definition = macro.definition
        let frame = JinjaFrame(parent: macro.frame)
        var keywords = arguments.keywords
        func takeKeyword(_ name: String) -> JinjaValue? {
            guard let index = keywords.firstIndex(where: { $0.name == name }) else { return nil }
            return keywords.remove(at: index).value
        }
        for (offset, parameter) in definition.parameters.enumerated() {
            let value: JinjaValue
            if offset < arguments.positional.count {
                value = arguments.positional[offset]
            } else if let given = takeKeyword(parameter.name) {
                value = given
            } else if let fallback = parameter.defaultValue {
                value = try evaluate(fallback, in: frame)
            } else {
                value = .undefined("parameter '\(parameter.name)' was not provided")
            }
            frame.variables[parameter.name] = value
        }
        if definition.readsCaller, frame.variables["caller"] == nil {
            frame.variables["caller"] = takeKeyword("caller") ?? .undefined("No caller defined")
        }
        if definition.readsKeywordArguments {
            frame.variables["kwargs"] = .dictionary(try JinjaDictionary(keywords.map { ($0.name, $0.value) }, maxNesting: limits.maxNesting))
        } else if let first = keywords.first {
            throw JinjaFailure.render("macro '\(definition.name)' takes no keyword argument '\(first.name)'")
        }
        let surplus = Array(arguments.positional.dropFirst(definition.parameters.count))
        if definition.readsVarargs {
            frame.variables["varargs"] = try tuple(surplus)
        } else if !surplus.isEmpty {
            throw JinjaFailure.render("macro '\(definition.name)' takes not more than \(definition.parameters.count) argument(s)")
        }
        let text = try call { try capture { try execute(definition.body, in: frame) }.text }
        return .string(text)
    }

    private func callLoopMethod(_ loop: JinjaLoop, _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
        switch name {
        case "cycle":
            guard arguments.keywords.isEmpty else { throw JinjaFailure.render("cycle() takes no keyword arguments") }
            guard !arguments.positional.isEmpty else { throw JinjaFailure.render("no items for cycling given") }
            return arguments.positional[loop.index0 % arguments.positional.count]
        case "changed":
            let current = try tuple(arguments.positional)
            defer {
                loop.lastChanged = current
                retainForCleanup(loop)
            }
            guard let previous = loop.lastChanged else { return .boolean(true) }
            return .boolean(!PythonOperators.equal(previous, current))
        default:
            guard let recursion = loop.recursion else {
                throw JinjaFailure.render("The loop must have the 'recursive' marker to be called recursively.")
            }
            let values = try arguments.bind([.required("iterable")], function: "loop()")
            let text = try call {
                try capture { try runLoop(recursion.loop, in: recursion.frame, iterable: values[0], depth0: loop.depth0 + 1) }.text
            }
            return .string(text)
        }
    }

    // MARK: - Filters and tests

    /// A filter expression (possibly a chain) applied to `value`, for `{% filter %}` and `{% set x | f %}`,
    /// whose innermost filter has no operand of its own.
    func applyFilterChain(_ expression: JinjaExpression, to value: JinjaValue, in frame: JinjaFrame) throws -> JinjaValue {
        guard case .filter(let base, let name, let arguments) = expression.kind else { return value }
        let operand = try base.map { try applyFilterChain($0, to: value, in: frame) } ?? value
        return try located(expression.position) {
            try applyFilter(name, to: operand, try evaluateArguments(arguments, in: frame))
        }
    }

    func applyFilter(_ name: String, to value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
        try JinjaFilters.apply(name, to: value, arguments, interpreter: self)
    }

    func applyTest(_ name: String, to value: JinjaValue, _ arguments: JinjaArguments) throws -> Bool {
        try JinjaTests.apply(name, to: value, arguments, interpreter: self)
    }
}
