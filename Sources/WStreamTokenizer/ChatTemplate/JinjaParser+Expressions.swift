/// Expressions, in Jinja's precedence from loosest to tightest: conditional, `or`, `and`, `not`,
/// comparisons, `+ -`, `~`, `* / // %`, `**`, unary `- +`, then primaries with their postfix
/// `.attr`, `[item]`, `(call)`, `| filter` and `is test`.
extension JinjaParser {
    func make(_ kind: JinjaExpression.Kind, at position: TemplatePosition) throws -> JinjaExpression {
        let depth = kind.childDepth + 1
        guard depth <= limits.maxExpressionDepth else {
            throw JinjaFailure.limit("an expression nests deeper than \(limits.maxExpressionDepth) levels", at: position)
        }
        return JinjaExpression(kind: kind, position: position, depth: depth)
    }

    /// Expressions separated by commas form a tuple, as in `{{ a, b }}` or `{% set x = 1, 2 %}`.
    mutating func parseTuple(
        allowConditional: Bool = true, endNames: Set<String> = [], explicitParentheses: Bool = false
    ) throws -> JinjaExpression {
        let start = current.position
        var items: [JinjaExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(symbol: ",") }
            if isTupleEnd(endNames) { break }
            items.append(allowConditional ? try parseExpression() : try nested { try $0.parseOr() })
            if current.isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParentheses { throw unexpected(expected: "an expression") }
        }
        return try make(.tuple(items), at: start)
    }

    mutating func parseExpression() throws -> JinjaExpression {
        try nested { try $0.parseConditional() }
    }

    private mutating func parseConditional() throws -> JinjaExpression {
        let start = current.position
        var value = try parseOr()
        while skip(name: "if") {
            let condition = try parseOr()
            let otherwise = skip(name: "else") ? try nested { try $0.parseConditional() } : nil
            value = try make(.conditional(value: value, condition: condition, otherwise: otherwise), at: start)
        }
        return value
    }

    private mutating func parseOr() throws -> JinjaExpression {
        let start = current.position
        var left = try parseAnd()
        while skip(name: "or") { left = try make(.or(left, try parseAnd()), at: start) }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        let start = current.position
        var left = try parseNot()
        while skip(name: "and") { left = try make(.and(left, try parseNot()), at: start) }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpression {
        guard current.isName("not") else { return try parseCompare() }
        let start = advance().position
        return try make(.not(try nested { try $0.parseNot() }), at: start)
    }

    private mutating func parseCompare() throws -> JinjaExpression {
        let start = current.position
        let first = try parseMath1()
        var operations: [(JinjaComparison, JinjaExpression)] = []
        while true {
            if case .symbol(let symbol) = current.kind, let comparison = JinjaComparison(rawValue: symbol) {
                index += 1
                operations.append((comparison, try parseMath1()))
            } else if skip(name: "in") {
                operations.append((.in, try parseMath1()))
            } else if current.isName("not"), peek().isName("in") {
                index += 2
                operations.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : try make(.compare(first, operations), at: start)
    }

    private mutating func parseMath1() throws -> JinjaExpression {
        let start = current.position
        var left = try parseConcat()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            index += 1
            left = try make(.binary(symbol == "+" ? .add : .subtract, left, try parseConcat()), at: start)
        }
        return left
    }

    private mutating func parseConcat() throws -> JinjaExpression {
        let start = current.position
        var operands = [try parseMath2()]
        while skip(symbol: "~") { operands.append(try parseMath2()) }
        return operands.count == 1 ? operands[0] : try make(.concat(operands), at: start)
    }

    private mutating func parseMath2() throws -> JinjaExpression {
        let start = current.position
        var left = try parsePower()
        while case .symbol(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            index += 1
            left = try make(.binary(JinjaBinaryOperator(rawValue: symbol)!, left, try parsePower()), at: start)
        }
        return left
    }

    private mutating func parsePower() throws -> JinjaExpression {
        let start = current.position
        var left = try parseUnary(withFilter: true)
        while skip(symbol: "**") { left = try make(.binary(.power, left, try parseUnary(withFilter: true)), at: start) }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> JinjaExpression {
        let start = current.position
        var node: JinjaExpression
        if skip(symbol: "-") {
            node = try make(.negate(try nested { try $0.parseUnary(withFilter: false) }), at: start)
        } else if skip(symbol: "+") {
            node = try make(.plus(try nested { try $0.parseUnary(withFilter: false) }), at: start)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            index += 1
            switch name {
            case "true", "True": return try make(.constant(.boolean(true)), at: token.position)
            case "false", "False": return try make(.constant(.boolean(false)), at: token.position)
            case "none", "None": return try make(.constant(.none), at: token.position)
            default: return try make(.name(name), at: token.position)
            }
        case .string(var text):
            index += 1
            // Adjacent string literals join, as in Python.
            while case .string(let more) = current.kind {
                text += more
                index += 1
            }
            return try make(.constant(.string(text)), at: token.position)
        case .integer(let value):
            index += 1
            return try make(.constant(.integer(value)), at: token.position)
        case .float(let value):
            index += 1
            return try make(.constant(.float(value)), at: token.position)
        case .symbol("("):
            index += 1
            let inner = try nested { try $0.parseTuple(explicitParentheses: true) }
            try expect(symbol: ")")
            return inner
        case .symbol("["):
            return try parseList()
        case .symbol("{"):
            return try parseDictionary()
        default:
            throw unexpected(expected: "an expression")
        }
    }

    private mutating func parseList() throws -> JinjaExpression {
        let start = advance().position
        var items: [JinjaExpression] = []
        while !current.isSymbol("]") {
            if !items.isEmpty { try expect(symbol: ",") }
            if current.isSymbol("]") { break }
            items.append(try parseExpression())
        }
        try expect(symbol: "]")
        return try make(.list(items), at: start)
    }

    private mutating func parseDictionary() throws -> JinjaExpression {
        let start = advance().position
        var pairs: [(key: JinjaExpression, value: JinjaExpression)] = []
        while !current.isSymbol("}") {
            if !pairs.isEmpty { try expect(symbol: ",") }
            if current.isSymbol("}") { break }
            let key = try parseExpression()
            try expect(symbol: ":")
            pairs.append((key, try parseExpression()))
        }
        try expect(symbol: "}")
        return try make(.dictionary(pairs), at: start)
    }

    private mutating func parsePostfix(_ base: JinjaExpression) throws -> JinjaExpression {
        var node = base
        while true {
            if current.isSymbol(".") || current.isSymbol("[") {
                node = try parseSubscript(node)
            } else if current.isSymbol("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseFilterExpression(_ base: JinjaExpression) throws -> JinjaExpression {
        var node = base
        while true {
            if current.isSymbol("|") {
                node = try parseFilter(node, startInline: false)
            } else if current.isName("is") {
                node = try parseTest(node)
            } else if current.isSymbol("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: JinjaExpression) throws -> JinjaExpression {
        let token = advance()
        if token.isSymbol(".") {
            let attribute = advance()
            switch attribute.kind {
            case .name(let name): return try make(.attribute(base, name), at: token.position)
            case .integer(let value):
                return try make(.item(base, try make(.constant(.integer(value)), at: attribute.position)), at: token.position)
            default: throw JinjaFailure.syntax("expected a name or number after '.', found \(attribute.spelling)", at: attribute.position)
            }
        }
        var arguments: [JinjaExpression] = []
        while !current.isSymbol("]") {
            if !arguments.isEmpty { try expect(symbol: ",") }
            arguments.append(try nested { try $0.parseSubscribed() })
        }
        try expect(symbol: "]")
        let key = arguments.count == 1 ? arguments[0] : try make(.tuple(arguments), at: token.position)
        return try make(.item(base, key), at: token.position)
    }

    /// One subscript: an expression, or a slice `start:stop:step` with any part left out.
    private mutating func parseSubscribed() throws -> JinjaExpression {
        let start = current.position
        var parts: [JinjaExpression?] = []
        if skip(symbol: ":") {
            parts = [nil]
        } else {
            let expression = try parseExpression()
            guard skip(symbol: ":") else { return expression }
            parts = [expression]
        }
        func endsPart(_ token: JinjaToken) -> Bool { token.isSymbol("]") || token.isSymbol(",") || token.isSymbol(":") }
        parts.append(endsPart(current) ? nil : try parseExpression())
        if skip(symbol: ":") {
            parts.append(current.isSymbol("]") || current.isSymbol(",") ? nil : try parseExpression())
        } else {
            parts.append(nil)
        }
        return try make(.slice(start: parts[0], stop: parts[1], step: parts[2]), at: start)
    }

    /// A call is placed where its callee starts, so that an error in `raise_exception(…)` points at the name.
    private mutating func parseCall(_ callee: JinjaExpression) throws -> JinjaExpression {
        try make(.call(callee, try parseCallArguments()), at: callee.position)
    }

    mutating func parseCallArguments() throws -> JinjaArgumentList {
        let open = current.position
        try expect(symbol: "(")
        var arguments = JinjaArgumentList()
        func ensure(_ condition: Bool) throws {
            if !condition { throw JinjaFailure.syntax("invalid syntax for function call expression", at: open) }
        }
        var requireComma = false
        while !current.isSymbol(")") {
            if requireComma {
                try expect(symbol: ",")
                if current.isSymbol(")") { break }
            }
            if skip(symbol: "*") {
                try ensure(arguments.spreadPositional == nil && arguments.spreadKeywords == nil)
                arguments.spreadPositional = try parseExpression()
            } else if skip(symbol: "**") {
                try ensure(arguments.spreadKeywords == nil)
                arguments.spreadKeywords = try parseExpression()
            } else if case .name(let name) = current.kind, peek().isSymbol("=") {
                try ensure(arguments.spreadKeywords == nil)
                index += 2
                arguments.keywords.append((name, try parseExpression()))
            } else {
                try ensure(arguments.spreadPositional == nil && arguments.spreadKeywords == nil && arguments.keywords.isEmpty)
                arguments.positional.append(try parseExpression())
            }
            requireComma = true
        }
        try expect(symbol: ")")
        return arguments
    }

    /// `| name(arguments)` repeated; with `startInline` the first filter has no leading `|`
    /// (`{% filter trim %}`).
    mutating func parseFilter(_ base: JinjaExpression?, startInline: Bool) throws -> JinjaExpression {
        var node = base
        var inline = startInline
        while current.isSymbol("|") || inline {
            if !inline { index += 1 }
            inline = false
            let position = current.position
            var name = try expectName()
            while skip(symbol: ".") { name += "." + (try expectName()) }
            let arguments = current.isSymbol("(") ? try parseCallArguments() : JinjaArgumentList()
            node = try make(.filter(node, name: name, arguments), at: position)
        }
        guard let node else { throw unexpected(expected: "'|'") }
        return node
    }

    private mutating func parseTest(_ base: JinjaExpression) throws -> JinjaExpression {
        let position = advance().position
        let negated = skip(name: "not")
        var name = try expectName()
        while skip(symbol: ".") { name += "." + (try expectName()) }
        var arguments = JinjaArgumentList()
        if current.isSymbol("(") {
            arguments = try parseCallArguments()
        } else if Self.startsBareTestArgument(current) {
            if current.isName("is") { throw JinjaFailure.syntax("you cannot chain multiple tests with 'is'", at: current.position) }
            arguments.positional = [try parsePostfix(try parsePrimary())]
        }
        let test = try make(.test(base, name: name, arguments), at: position)
        return negated ? try make(.not(test), at: position) : test
    }

    /// `x is divisibleby 3`: a test takes one argument without parentheses when a primary follows.
    private static func startsBareTestArgument(_ token: JinjaToken) -> Bool {
        switch token.kind {
        case .name(let name): return !["else", "or", "and"].contains(name)
        case .string, .integer, .float, .symbol("("), .symbol("["), .symbol("{"): return true
        default: return false
        }
    }
}
