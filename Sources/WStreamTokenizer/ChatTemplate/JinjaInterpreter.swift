/// Renders parsed template nodes with Jinja's semantics in transformers' sandbox: scopes as Jinja
/// builds them, Python values and errors, and the limits of `TemplateLimits` on every step.
final class JinjaInterpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: TemplateLimits
    let clock: TemplateClock
    /// The render variables and top-level `set`s; globals such as `range` sit behind it.
    let root = JinjaFrame(parent: nil)
    private var output = ""
    private var steps = 0
    private var recursion = 0
    private var callDepth = 0
    /// Objects that may take part in a reference cycle (a macro stored in the frame it captures, a
    /// namespace holding itself); they are emptied when rendering ends so that nothing leaks.
    private var cycleCandidates: [AnyObject] = []

    init(limits: TemplateLimits, clock: TemplateClock) {
        self.limits = limits
        self.clock = clock
    }

    /// The text `nodes` render to.
    func render(_ nodes: [JinjaNode]) throws -> String {
        defer { releaseCycles() }
        _ = try execute(nodes, in: root)
        return output
    }

    private func releaseCycles() {
        for object in cycleCandidates {
            switch object {
            case let frame as JinjaFrame: frame.variables = [:]
            case let namespace as JinjaNamespace: namespace.attributes = JinjaDictionary()
            case let loop as JinjaLoop: loop.lastChanged = nil
            case let iterator as JinjaIterator: iterator.release()
            default: break
            }
        }
        cycleCandidates = []
        root.variables = [:]
    }

    func retainForCleanup(_ object: AnyObject) { cycleCandidates.append(object) }

    // MARK: - Limits

    /// Counts `amount` steps of work against `limits.maxSteps`.
    func charge(_ amount: Int = 1) throws {
        steps += amount
        guard steps <= limits.maxSteps else {
            throw JinjaFailure.limit("rendering took more than \(limits.maxSteps) steps")
        }
    }

    /// Counts work proportional to a string just built (one step per 64 bytes).
    func charge(bytes: Int) throws {
        try charge(bytes >> 6)
    }

    /// Runs `body` one recursion level deeper, failing beyond `limits.maxRecursion`.
    func nested<T>(_ body: () throws -> T) throws -> T {
        recursion += 1
        defer { recursion -= 1 }
        guard recursion <= limits.maxRecursion else {
            throw JinjaFailure.limit("rendering recursed deeper than \(limits.maxRecursion) levels")
        }
        return try body()
    }

    /// Runs a macro body (or `caller`, or a recursive loop level) one call deeper.
    func call<T>(_ body: () throws -> T) throws -> T {
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= limits.maxCallDepth else {
            throw JinjaFailure.limit("macro calls nest deeper than \(limits.maxCallDepth) levels")
        }
        return try body()
    }

    /// `str(value)` within the output limit.
    func str(_ value: JinjaValue) throws -> String {
        try PythonText.str(value, maxBytes: limits.maxOutputBytes)
    }

    /// `repr(value)` within the output limit.
    func repr(_ value: JinjaValue) throws -> String {
        try PythonText.repr(value, maxBytes: limits.maxOutputBytes)
    }

    func string(_ text: String) throws -> JinjaValue {
        try PythonOperators.checkLength(text.utf8.count, limits)
        try charge(bytes: text.utf8.count)
        return .string(text)
    }

    func list(_ items: [JinjaValue]) throws -> JinjaValue {
        try PythonOperators.checkCount(items.count, limits)
        return .list(try JinjaSequence(items, maxNesting: limits.maxNesting))
    }

    func tuple(_ items: [JinjaValue]) throws -> JinjaValue {
        try PythonOperators.checkCount(items.count, limits)
        return .tuple(try JinjaSequence(items, maxNesting: limits.maxNesting))
    }

    // MARK: - Output

    private func write(_ text: String) throws {
        guard output.utf8.count + text.utf8.count <= limits.maxOutputBytes else {
            throw JinjaFailure.limit("the output grew beyond \(limits.maxOutputBytes) bytes")
        }
        try charge(bytes: text.utf8.count)
        output += text
    }

    /// The text `body` writes, instead of writing it.
    func capture(_ body: () throws -> Flow) throws -> (text: String, flow: Flow) {
        let saved = output
        output = ""
        defer { output = saved }
        let flow = try body()
        return (output, flow)
    }

    // MARK: - Statements

    func execute(_ nodes: [JinjaNode], in frame: JinjaFrame) throws -> Flow {
        try nested {
            for node in nodes {
                try charge()
                let flow = try execute(node, in: frame)
                if flow != .normal { return flow }
            }
            return .normal
        }
    }

    private func execute(_ node: JinjaNode, in frame: JinjaFrame) throws -> Flow {
        switch node {
        case .text(let text):
            try write(text)
        case .output(let expression):
            let value = try evaluate(expression, in: frame)
            do { try write(try str(value)) } catch { throw JinjaFailure.located(error, at: expression.position) }
        case .forLoop(let loop):
            try runLoop(loop, in: frame, iterable: nil, depth0: 0)
        case .conditional(let branches, let otherwise):
            for branch in branches {
                if try evaluate(branch.condition, in: frame).isTrue { return try execute(branch.body, in: frame) }
            }
            return try execute(otherwise, in: frame)
        case .assign(let target, let expression, let position):
            let value = try evaluate(expression, in: frame)
            try assign(target, value, in: frame, at: position)
        case .assignBlock(let target, let filter, let body, let position):
            let (text, flow) = try capture { try execute(body, in: JinjaFrame(parent: frame)) }
            var value = JinjaValue.string(text)
            if let filter { value = try applyFilterChain(filter, to: value, in: frame) }
            try assign(target, value, in: frame, at: position)
            return flow
        case .macro(let definition):
            frame.variables[definition.name] = .callable(.macro(JinjaMacro(definition, frame: frame)))
            retainForCleanup(frame)
        case .callBlock(let call, let callerDefinition):
            guard case .call(let callee, let arguments) = call.kind else { return .normal }
            let caller = JinjaValue.callable(.macro(JinjaMacro(callerDefinition, frame: frame)))
            retainForCleanup(frame)
            let result = try located(call.position) {
                var values = try evaluateArguments(arguments, in: frame)
                values.keywords.append(("caller", caller))
                return try self.call(try evaluate(callee, in: frame), values)
            }
            try write(try located(call.position) { try str(result) })
        case .filterBlock(let filter, let body):
            let (text, flow) = try capture { try execute(body, in: JinjaFrame(parent: frame)) }
            let value = try applyFilterChain(filter, to: .string(text), in: frame)
            try write(try located(filter.position) { try str(value) })
            return flow
        case .with(let targets, let body):
            let inner = JinjaFrame(parent: frame)
            for (target, expression) in targets {
                try assign(target, try evaluate(expression, in: frame), in: inner, at: expression.position)
            }
            return try execute(body, in: inner)
        case .generation(let body):
            return try execute(body, in: JinjaFrame(parent: frame))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .unsupported(let construct, let position):
            throw JinjaFailure.unsupported(construct, at: position)
        }
        return .normal
    }

    /// `body`, with `position` added to a template error that has none.
    func located<T>(_ position: TemplatePosition, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw JinjaFailure.located(error, at: position) }
    }

    /// A `for` loop; `iterable` and `depth0` are given when a recursive loop calls itself.
    @discardableResult
    func runLoop(_ loop: JinjaForLoop, in frame: JinjaFrame, iterable: JinjaValue?, depth0: Int) throws -> Flow {
        let source = try iterable ?? evaluate(loop.iterable, in: frame)
        var items = try located(loop.iterable.position) { try elements(of: source) }
        if let condition = loop.condition {
            items = try items.filter { item in
                let test = JinjaFrame(parent: frame)
                try assign(loop.target, item, in: test, at: loop.position)
                return try evaluate(condition, in: test).isTrue
            }
        }
        guard !items.isEmpty else { return try execute(loop.otherwise, in: JinjaFrame(parent: frame)) }
        let state = JinjaLoop(items: items, depth0: depth0, recursion: loop.isRecursive ? (loop, frame) : nil)
        for (offset, item) in items.enumerated() {
            try charge()
            state.index0 = offset
            let body = JinjaFrame(parent: frame)
            body.variables["loop"] = .loop(state)
            try assign(loop.target, item, in: body, at: loop.position)
            if try execute(loop.body, in: body) == .breakLoop { break }
        }
        return .normal
    }

    /// Binds `value` to a name, a namespace attribute, or (unpacking) a tuple of targets.
    func assign(_ target: JinjaTarget, _ value: JinjaValue, in frame: JinjaFrame, at position: TemplatePosition) throws {
        switch target {
        case .name(let name):
            frame.variables[name] = value
        case .namespaceAttribute(let name, let attribute, let position):
            guard case .namespace(let namespace)? = frame.lookup(name) else {
                throw JinjaFailure.render("cannot assign attribute on non-namespace object", at: position)
            }
            guard !attribute.hasPrefix("_") else {
                throw JinjaFailure.render(
                    "SecurityError: Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attribute)'",
                    at: position)
            }
            try located(position) { try namespace.attributes.set(.string(attribute), value, maxNesting: limits.maxNesting) }
        case .tuple(let targets, let position):
            let items = try located(position) { try elements(of: value) }
            guard items.count == targets.count else {
                let problem = items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))"
                throw JinjaFailure.render(problem, at: position)
            }
            for (target, item) in zip(targets, items) { try assign(target, item, in: frame, at: position) }
        }
    }

    /// The elements Python's `iter(value)` yields: characters of a string, keys of a dictionary, …
    func elements(of value: JinjaValue) throws -> [JinjaValue] {
        let result: [JinjaValue]
        switch value {
        case .list(let sequence), .tuple(let sequence): result = sequence.items
        // Iterating a Markup yields plain characters (str.__iter__), unlike indexing it.
        case .string(let text), .markup(let text):
            let count = text.unicodeScalars.count
            try PythonOperators.checkCount(count, limits)
            result = text.unicodeScalars.map { .string(String($0)) }
        case .dictionary(let dictionary): result = dictionary.keys
        case .range(let range): result = range.elements
        case .view(let view): result = view.elements
        case .undefined: result = []
        case .iterator(let iterator):
            var collected: [JinjaValue] = []
            while let next = try iterator.next() {
                collected.append(next)
                try PythonOperators.checkCount(collected.count, limits)
                try charge()
            }
            return collected
        case .loop(let loop): result = loop.items
        default: throw JinjaFailure.render("'\(value.typeName)' object is not iterable")
        }
        try charge(result.count)
        return result
    }
}
