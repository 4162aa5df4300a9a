/// Parses a chat template's tokens into nodes, following Jinja's own parser rule for rule so that the
/// same source means the same thing (precedence, tuples without parentheses, `is` tests with one bare
/// argument, filters binding tighter than unary minus, …).
struct JinjaParser {
    var tokens: [JinjaToken]
    var index = 0
    let limits: TemplateLimits
    /// Current depth of nested blocks and parenthesised expressions, bounded by `limits.maxNesting`.
    var nesting = 0
    /// End tags of the blocks being parsed, innermost last, for "not closed" messages.
    private var openBlocks: [(tag: String, position: TemplatePosition)] = []

    /// Parses and checks `source`.
    /// - Throws: `TokenizerError.chatTemplate` (`.syntax`, or `.limit` when the template is too large or too deep).
    static func parse(_ source: String, limits: TemplateLimits) throws -> [JinjaNode] {
        guard source.utf8.count <= limits.maxTemplateBytes else {
            throw JinjaFailure.limit("the template has \(source.utf8.count) bytes, more than the \(limits.maxTemplateBytes) allowed")
        }
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source), limits: limits)
        let nodes = try parser.parseBody(until: [])
        try JinjaNameCheck.check(nodes)
        return nodes
    }

    init(tokens: [JinjaToken], limits: TemplateLimits) {
        self.tokens = tokens
        self.limits = limits
    }

    // MARK: - Token stream

    var current: JinjaToken { tokens[index] }

    func peek(_ offset: Int = 1) -> JinjaToken { tokens[min(index + offset, tokens.count - 1)] }

    mutating func advance() -> JinjaToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    mutating func skip(symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func skip(name: String) -> Bool {
        guard current.isName(name) else { return false }
        index += 1
        return true
    }

    mutating func expect(symbol: String) throws {
        guard skip(symbol: symbol) else { throw unexpected(expected: "'\(symbol)'") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw unexpected(expected: "a name") }
        index += 1
        return name
    }

    mutating func expect(_ kind: JinjaToken.Kind, spelled spelling: String) throws {
        guard current.kind == kind else { throw unexpected(expected: spelling) }
        index += 1
    }

    func unexpected(expected: String) -> TokenizerError {
        if current.kind == .end { return endOfTemplate() }
        return JinjaFailure.syntax("expected \(expected), found \(current.spelling)", at: current.position)
    }

    private func endOfTemplate() -> TokenizerError {
        guard let open = openBlocks.last else {
            return JinjaFailure.syntax("unexpected end of template", at: current.position)
        }
        return JinjaFailure.syntax(
            "unexpected end of template: '\(open.tag)' opened at \(open.position) is never closed", at: current.position)
    }

    /// Runs `body` one nesting level deeper, failing beyond `limits.maxNesting`.
    mutating func nested<T>(_ body: (inout JinjaParser) throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= limits.maxNesting else {
            throw JinjaFailure.limit("blocks or parentheses nest deeper than \(limits.maxNesting) levels", at: current.position)
        }
        return try body(&self)
    }

    // MARK: - Statements

    /// Nodes up to a block tag whose name is in `endTags` (left as the current token) or the end.
    mutating func parseBody(until endTags: Set<String>) throws -> [JinjaNode] {
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                index += 1
                nodes.append(.text(text))
            case .variableBegin:
                index += 1
                let expression = try parseTuple()
                try expect(.variableEnd, spelled: "'}}'")
                nodes.append(.output(expression))
            case .blockBegin:
                index += 1
                if case .name(let name) = current.kind, endTags.contains(name) { return nodes }
                nodes += try parseStatement()
                try expect(.blockEnd, spelled: "'%}'")
            case .end:
                return nodes
            default:
                throw unexpected(expected: "template text or a tag")
            }
        }
    }

    /// `:`? `%}` then a body up to one of `endTags`; the end tag's name stays current unless `dropEnd`.
    private mutating func parseBlock(_ tag: String, at position: TemplatePosition, until endTags: Set<String>, dropEnd: Bool) throws -> [JinjaNode] {
        _ = skip(symbol: ":")
        try expect(.blockEnd, spelled: "'%}'")
        openBlocks.append((tag, position))
        defer { openBlocks.removeLast() }
        let body = try nested { try $0.parseBody(until: endTags) }
        guard current.kind != .end else {
            throw JinjaFailure.syntax(
                "unexpected end of template: '\(tag)' opened at \(position) is never closed (expected "
                    + endTags.sorted().map { "'\($0)'" }.joined(separator: " or ") + ")", at: current.position)
        }
        if dropEnd { index += 1 }
        return body
    }

    private mutating func parseStatement() throws -> [JinjaNode] {
        let token = current
        guard case .name(let tag) = token.kind else { throw JinjaFailure.syntax("tag name expected", at: token.position) }
        let position = token.position
        index += 1
        switch tag {
        case "for": return [try parseFor(at: position)]
        case "if": return [try parseIf(at: position)]
        case "set": return [try parseSet(at: position)]
        case "macro": return [try parseMacro(at: position)]
        case "call": return [try parseCallBlock(at: position)]
        case "filter":
            let filter = try parseFilter(nil, startInline: true)
            return [.filterBlock(filter: filter, body: try parseBlock("filter", at: position, until: ["endfilter"], dropEnd: true))]
        case "with": return [try parseWith(at: position)]
        case "print":
            var expressions: [JinjaNode] = []
            while current.kind != .blockEnd {
                if !expressions.isEmpty { try expect(symbol: ",") }
                expressions.append(.output(try parseExpression()))
            }
            return expressions
        case "generation":
            return [.generation(try parseBlock("generation", at: position, until: ["endgeneration"], dropEnd: true))]
        case "break": return [.breakLoop(position)]
        case "continue": return [.continueLoop(position)]
        case "block", "autoescape":
            while current.kind != .blockEnd && current.kind != .end { index += 1 }
            _ = try parseBlock(tag, at: position, until: ["end" + tag], dropEnd: true)
            // `{% endblock name %}` may repeat the block's name.
            if tag == "block", case .name = current.kind { index += 1 }
            return [.unsupported("the '\(tag)' tag", position)]
        case "extends", "include", "import", "from":
            while current.kind != .blockEnd && current.kind != .end { index += 1 }
            return [.unsupported("the '\(tag)' tag (a chat template is rendered on its own, without a loader)", position)]
        default:
            var message = "unknown tag '\(tag)'"
            if let open = openBlocks.last { message += " inside '\(open.tag)' opened at \(open.position)" }
            throw JinjaFailure.syntax(message, at: position)
        }
    }

    private mutating func parseFor(at position: TemplatePosition) throws -> JinjaNode {
        let target = try parseAssignTarget(endNames: ["in"], allowNamespace: false)
        if target.names.contains("loop") {
            throw JinjaFailure.syntax("cannot assign to the special loop variable 'loop' in a for-loop target", at: position)
        }
        guard skip(name: "in") else { throw unexpected(expected: "'in'") }
        let iterable = try parseTuple(allowConditional: false, endNames: ["recursive"])
        var condition: JinjaExpression?
        if skip(name: "if") { condition = try parseExpression() }
        let isRecursive = skip(name: "recursive")
        let body = try parseBlock("for", at: position, until: ["endfor", "else"], dropEnd: false)
        var otherwise: [JinjaNode] = []
        if advance().isName("else") {
            otherwise = try parseBlock("for", at: position, until: ["endfor"], dropEnd: true)
        }
        return .forLoop(JinjaForLoop(
            target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise,
            isRecursive: isRecursive, position: position))
    }

    private mutating func parseIf(at position: TemplatePosition) throws -> JinjaNode {
        var branches: [(condition: JinjaExpression, body: [JinjaNode])] = []
        var otherwise: [JinjaNode] = []
        while true {
            let condition = try parseTuple(allowConditional: false)
            let body = try parseBlock("if", at: position, until: ["elif", "else", "endif"], dropEnd: false)
            branches.append((condition, body))
            let token = advance()
            if token.isName("elif") { continue }
            if token.isName("else") { otherwise = try parseBlock("if", at: position, until: ["endif"], dropEnd: true) }
            break
        }
        return .conditional(branches: branches, otherwise: otherwise)
    }

    private mutating func parseSet(at position: TemplatePosition) throws -> JinjaNode {
        let target = try parseAssignTarget(endNames: [], allowNamespace: true)
        if skip(symbol: "=") { return .assign(target, try parseTuple(), position) }
        let filter: JinjaExpression? = current.isSymbol("|") ? try parseFilter(nil, startInline: false) : nil
        let body = try parseBlock("set", at: position, until: ["endset"], dropEnd: true)
        return .assignBlock(target, filter: filter, body: body, position)
    }

    private mutating func parseWith(at position: TemplatePosition) throws -> JinjaNode {
        var targets: [(JinjaTarget, JinjaExpression)] = []
        while current.kind != .blockEnd {
            if !targets.isEmpty { try expect(symbol: ",") }
            let target = try parseAssignTarget(endNames: [], allowNamespace: false)
            try expect(symbol: "=")
            targets.append((target, try parseExpression()))
        }
        return .with(targets: targets, body: try parseBlock("with", at: position, until: ["endwith"], dropEnd: true))
    }

    private mutating func parseMacro(at position: TemplatePosition) throws -> JinjaNode {
        let name = try expectName()
        let parameters = try parseSignature()
        let body = try parseBlock("macro", at: position, until: ["endmacro"], dropEnd: true)
        return .macro(Self.macroDefinition(name: name, parameters: parameters, body: body, at: position))
    }

    private mutating func parseCallBlock(at position: TemplatePosition) throws -> JinjaNode {
        let parameters = current.isSymbol("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw JinjaFailure.syntax("expected a call after 'call'", at: call.position) }
        let body = try parseBlock("call", at: position, until: ["endcall"], dropEnd: true)
        return .callBlock(call: call, caller: Self.macroDefinition(name: "caller", parameters: parameters, body: body, at: position))
    }

    private mutating func parseSignature() throws -> [(name: String, defaultValue: JinjaExpression?)] {
        try expect(symbol: "(")
        var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
        while !current.isSymbol(")") {
            if !parameters.isEmpty { try expect(symbol: ",") }
            let token = current
            let name = try expectName()
            if skip(symbol: "=") {
                parameters.append((name, try parseExpression()))
            } else if name == "caller" {
                throw JinjaFailure.syntax(
                    "when defining macros or call blocks the special \"caller\" argument must be omitted or be given a default", at: token.position)
            } else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw JinjaFailure.syntax("non-default argument follows default argument", at: token.position)
            } else {
                parameters.append((name, nil))
            }
        }
        try expect(symbol: ")")
        return parameters
    }

    private static func macroDefinition(
        name: String, parameters: [(name: String, defaultValue: JinjaExpression?)], body: [JinjaNode], at position: TemplatePosition
    ) -> JinjaMacroDefinition {
        let names = JinjaNameCheck.namesRead(in: body)
        return JinjaMacroDefinition(
            name: name, parameters: parameters, body: body, readsVarargs: names.contains("varargs"),
            readsKeywordArguments: names.contains("kwargs"), readsCaller: names.contains("caller"), position: position)
    }

    /// A name, `namespace.attribute` (for `set`), or a tuple of targets.
    private mutating func parseAssignTarget(endNames: Set<String>, allowNamespace: Bool) throws -> JinjaTarget {
        let start = current.position
        var targets: [JinjaTarget] = []
        var isTuple = false
        while true {
            if !targets.isEmpty { try expect(symbol: ",") }
            if isTupleEnd(endNames) { break }
            targets.append(try parseSingleTarget(allowNamespace: allowNamespace))
            if current.isSymbol(",") { isTuple = true } else { break }
        }
        guard isTuple || targets.count != 1 else { return targets[0] }
        guard !targets.isEmpty else { throw unexpected(expected: "an assignment target") }
        return .tuple(targets, start)
    }

    private mutating func parseSingleTarget(allowNamespace: Bool) throws -> JinjaTarget {
        let token = current
        if case .name(let name) = token.kind {
            guard !["true", "false", "True", "False", "none", "None"].contains(name) else {
                throw JinjaFailure.syntax("cannot assign to the constant '\(name)'", at: token.position)
            }
            index += 1
            if allowNamespace, skip(symbol: ".") { return .namespaceAttribute(name, try expectName(), token.position) }
            return .name(name)
        }
        if token.isSymbol("(") {
            index += 1
            let inner = try nested { try $0.parseAssignTarget(endNames: [], allowNamespace: allowNamespace) }
            try expect(symbol: ")")
            return inner
        }
        throw JinjaFailure.syntax("cannot assign to \(token.spelling)", at: token.position)
    }

    func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .symbol(")"): return true
        case .name(let name): return endNames.contains(name)
        default: return false
        }
    }
}
