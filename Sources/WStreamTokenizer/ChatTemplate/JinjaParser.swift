/// Parses the lexer's parts into nodes: `for`/`endfor` (with `else` and an `if` filter), `if`/`elif`/`else`/`endif`,
/// `set`, `break`, `continue`, and expressions with Jinja's operator precedence.
struct JinjaParser {
    typealias Token = JinjaLexer.Token

    private var parts: [JinjaLexer.Part]
    private var position = 0

    init(_ parts: [JinjaLexer.Part]) { self.parts = parts }

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(try JinjaLexer(source).parts())
        let (nodes, end) = try parser.nodes(until: [])
        if let end { throw syntax("unexpected {% \(end) %}") }
        return nodes
    }

    private static func syntax(_ message: String) -> TokenizerError {
        .chatTemplateSyntax(message: message, offset: 0)
    }

    /// Nodes up to one of the `ends` keywords; returns which one ended them (nil at the end of the template).
    private mutating func nodes(until ends: Set<String>) throws -> ([JinjaNode], String?) {
        var result: [JinjaNode] = []
        while position < parts.count {
            let part = parts[position]
            position += 1
            switch part {
            case .text(let text): result.append(.text(text))
            case .output(let tokens):
                var expressions = Expressions(tokens)
                result.append(.output(try expressions.whole()))
            case .statement(let tokens):
                guard case .name(let keyword) = tokens.first else { throw Self.syntax("empty or malformed {% %} tag") }
                if ends.contains(keyword) {
                    position -= 1
                    return (result, keyword)
                }
                if let node = try statement(keyword, Array(tokens.dropFirst())) { result.append(node) }
            }
        }
        return (result, nil)
    }

    private mutating func statement(_ keyword: String, _ tokens: [Token]) throws -> JinjaNode? {
        switch keyword {
        case "for":
            var expressions = Expressions(tokens)
            var names = [try expressions.name()]
            while expressions.skip(.symbol(",")) { names.append(try expressions.name()) }
            try expressions.expect(.name("in"))
            let iterable = try expressions.orExpression()
            let condition = expressions.skip(.name("if")) ? try expressions.orExpression() : nil
            try expressions.end()
            let (body, end) = try nodes(until: ["else", "endfor"])
            var otherwise: [JinjaNode] = []
            if end == "else" {
                position += 1
                (otherwise, _) = try nodes(until: ["endfor"])
            }
            try close("endfor")
            return .forLoop(names: names, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
        case "if":
            var branches: [(JinjaExpression, [JinjaNode])] = []
            var expressions = Expressions(tokens)
            var condition = try expressions.whole()
            while true {
                let (body, end) = try nodes(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                guard end == "elif", case .statement(let next) = parts[position] else { break }
                position += 1
                var elif = Expressions(Array(next.dropFirst()))
                condition = try elif.whole()
            }
            var otherwise: [JinjaNode] = []
            if position < parts.count, case .statement(let next) = parts[position], next.first == .name("else") {
                position += 1
                (otherwise, _) = try nodes(until: ["endif"])
            }
            try close("endif")
            return .conditional(branches: branches, otherwise: otherwise)
        case "set":
            var expressions = Expressions(tokens)
            let name = try expressions.name()
            let attribute = expressions.skip(.symbol(".")) ? try expressions.name() : nil
            try expressions.expect(.symbol("="))
            let value = try expressions.whole()
            return .assignment(name: name, attribute: attribute, value: value)
        case "break": return .breakLoop
        case "continue": return .continueLoop
        // Assistant-mask markers for training; they render their body unchanged.
        case "generation", "endgeneration": return nil
        default: throw Self.syntax("unsupported tag {% \(keyword) %}")
        }
    }

    private mutating func close(_ keyword: String) throws {
        guard position < parts.count, case .statement(let tokens) = parts[position], tokens.first == .name(keyword) else {
            throw Self.syntax("missing {% \(keyword) %}")
        }
        position += 1
    }
}

/// Recursive-descent expression parser over one tag's tokens.
struct Expressions {
    typealias Token = JinjaLexer.Token
    private let tokens: [Token]
    private var index = 0

    init(_ tokens: [Token]) { self.tokens = tokens }

    private func error(_ message: String) -> TokenizerError {
        .chatTemplateSyntax(message: "\(message) in expression \(tokens.map(Self.spelling).joined(separator: " "))", offset: 0)
    }

    private static func spelling(_ token: Token) -> String {
        switch token {
        case .name(let text), .symbol(let text): text
        case .string(let text): text.debugDescription
        case .integer(let value): String(value)
        case .number(let value): String(value)
        }
    }

    private var current: Token? { index < tokens.count ? tokens[index] : nil }

    mutating func skip(_ token: Token) -> Bool {
        guard current == token else { return false }
        index += 1
        return true
    }

    mutating func expect(_ token: Token) throws {
        guard skip(token) else { throw error("expected \(Self.spelling(token))") }
    }

    mutating func name() throws -> String {
        guard case .name(let name) = current else { throw error("expected a name") }
        index += 1
        return name
    }

    mutating func end() throws {
        if let current { throw error("unexpected \(Self.spelling(current))") }
    }

    /// An expression that must use all tokens.
    mutating func whole() throws -> JinjaExpression {
        let result = try expression()
        try end()
        return result
    }

    mutating func expression() throws -> JinjaExpression {
        let value = try orExpression()
        guard skip(.name("if")) else { return value }
        let condition = try orExpression()
        let otherwise = skip(.name("else")) ? try expression() : nil
        return .conditional(value, condition: condition, otherwise: otherwise)
    }

    mutating func orExpression() throws -> JinjaExpression {
        var left = try andExpression()
        while skip(.name("or")) { left = .binary("or", left, try andExpression()) }
        return left
    }

    private mutating func andExpression() throws -> JinjaExpression {
        var left = try notExpression()
        while skip(.name("and")) { left = .binary("and", left, try notExpression()) }
        return left
    }

    private mutating func notExpression() throws -> JinjaExpression {
        skip(.name("not")) ? .unary("not", try notExpression()) : try comparison()
    }

    private mutating func comparison() throws -> JinjaExpression {
        var left = try additive()
        while true {
            if let current, case .symbol(let op) = current, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                index += 1
                left = .binary(op, left, try additive())
            } else if skip(.name("in")) {
                left = .binary("in", left, try additive())
            } else if current == .name("not"), index + 1 < tokens.count, tokens[index + 1] == .name("in") {
                index += 2
                left = .unary("not", .binary("in", left, try additive()))
            } else {
                return left
            }
        }
    }

    private mutating func additive() throws -> JinjaExpression {
        var left = try concatenation()
        while let current, current == .symbol("+") || current == .symbol("-") {
            index += 1
            left = .binary(current == .symbol("+") ? "+" : "-", left, try concatenation())
        }
        return left
    }

    private mutating func concatenation() throws -> JinjaExpression {
        var left = try multiplicative()
        while skip(.symbol("~")) { left = .binary("~", left, try multiplicative()) }
        return left
    }

    private mutating func multiplicative() throws -> JinjaExpression {
        var left = try unary()
        while let current, case .symbol(let op) = current, ["*", "/", "//", "%"].contains(op) {
            index += 1
            left = .binary(op, left, try unary())
        }
        return left
    }

    private mutating func unary() throws -> JinjaExpression {
        if skip(.symbol("-")) { return .unary("-", try unary()) }
        return try postfix(try primary())
    }

    private mutating func primary() throws -> JinjaExpression {
        guard let token = current else { throw error("expression ends early") }
        index += 1
        switch token {
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = current {
                text += more
                index += 1
            }
            return .string(text)
        case .integer(let value): return .integer(value)
        case .number(let value): return .number(value)
        case .name("true"), .name("True"): return .boolean(true)
        case .name("false"), .name("False"): return .boolean(false)
        case .name("none"), .name("None"): return .none
        case .name(let name): return .variable(name)
        case .symbol("("):
            let inner = try expression()
            try expect(.symbol(")"))
            return inner
        case .symbol("["):
            var items: [JinjaExpression] = []
            while !skip(.symbol("]")) {
                items.append(try expression())
                if !skip(.symbol(",")) { try expect(.symbol("]")); break }
            }
            return .list(items)
        case .symbol("{"):
            var items: [(JinjaExpression, JinjaExpression)] = []
            while !skip(.symbol("}")) {
                let key = try expression()
                try expect(.symbol(":"))
                items.append((key, try expression()))
                if !skip(.symbol(",")) { try expect(.symbol("}")); break }
            }
            return .dictionary(items)
        default: throw error("unexpected \(Self.spelling(token))")
        }
    }

    private mutating func postfix(_ base: JinjaExpression) throws -> JinjaExpression {
        var value = base
        while true {
            if skip(.symbol(".")) {
                value = .attribute(value, try name())
            } else if skip(.symbol("[")) {
                let start = current == .symbol(":") ? nil : try expression()
                if skip(.symbol(":")) {
                    let end = current == .symbol("]") ? nil : try expression()
                    value = .slice(value, start: start, end: end)
                } else if let start {
                    value = .item(value, start)
                }
                try expect(.symbol("]"))
            } else if skip(.symbol("(")) {
                let (arguments, keywords) = try callArguments()
                value = .call(value, arguments: arguments, keywords: keywords)
            } else if skip(.symbol("|")) {
                let filter = try name()
                let arguments = skip(.symbol("(")) ? try callArguments().0 : []
                value = .filter(value, name: filter, arguments: arguments)
            } else if skip(.name("is")) {
                let negated = skip(.name("not"))
                value = .test(value, name: try name(), negated: negated)
            } else {
                return value
            }
        }
    }

    /// After `(`: positional and `name=value` arguments up to `)`.
    private mutating func callArguments() throws -> ([JinjaExpression], [(String, JinjaExpression)]) {
        var arguments: [JinjaExpression] = []
        var keywords: [(String, JinjaExpression)] = []
        while !skip(.symbol(")")) {
            if case .name(let key) = current, index + 1 < tokens.count, tokens[index + 1] == .symbol("=") {
                index += 2
                keywords.append((key, try expression()))
            } else {
                arguments.append(try expression())
            }
            if !skip(.symbol(",")) { try expect(.symbol(")")); break }
        }
        return (arguments, keywords)
    }
}
