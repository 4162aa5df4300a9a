/// The checks Jinja's compiler makes before rendering: a filter or test that does not exist is an error
/// at load time unless it sits inside an `if` or a conditional expression (then only when reached), and
/// `break`/`continue` must be inside a loop.
enum JinjaNameCheck {
    static func check(_ nodes: [JinjaNode]) throws {
        for node in nodes { try check(node, soft: false, inLoop: false) }
    }

    /// Every variable name read anywhere in `nodes` (Jinja looks for `caller`, `varargs` and `kwargs` this way).
    static func namesRead(in nodes: [JinjaNode]) -> Set<String> {
        var names = Set<String>()
        for node in nodes {
            visitExpressions(in: node) { expression in
                if case .name(let name) = expression.kind { names.insert(name) }
            }
        }
        return names
    }

    private static func check(_ node: JinjaNode, soft: Bool, inLoop: Bool) throws {
        func body(_ nodes: [JinjaNode], soft: Bool = false, inLoop: Bool = false) throws {
            for node in nodes { try check(node, soft: soft, inLoop: inLoop) }
        }
        switch node {
        case .text, .unsupported: break
        case .output(let expression): try check(expression, soft: soft)
        case .forLoop(let loop):
            try check(loop.iterable, soft: soft)
            if let condition = loop.condition { try check(condition, soft: false) }
            try body(loop.body, inLoop: true)
            try body(loop.otherwise, inLoop: inLoop)
        case .conditional(let branches, let otherwise):
            for branch in branches {
                try check(branch.condition, soft: true)
                try body(branch.body, soft: true, inLoop: inLoop)
            }
            try body(otherwise, soft: true, inLoop: inLoop)
        case .assign(_, let value, _): try check(value, soft: soft)
        case .assignBlock(_, let filter, let nodes, _):
            if let filter { try check(filter, soft: false) }
            try body(nodes, inLoop: inLoop)
        case .macro(let macro): try check(macro)
        case .callBlock(let call, let caller):
            try check(call, soft: soft)
            try check(caller)
        case .filterBlock(let filter, let nodes):
            try check(filter, soft: false)
            try body(nodes, inLoop: inLoop)
        case .with(let targets, let nodes):
            for (_, value) in targets { try check(value, soft: soft) }
            try body(nodes, inLoop: inLoop)
        case .generation(let nodes): try body(nodes, inLoop: inLoop)
        case .breakLoop(let position), .continueLoop(let position):
            if !inLoop { throw JinjaFailure.syntax("'break' and 'continue' must be inside a for loop", at: position) }
        }
    }

    private static func check(_ macro: JinjaMacroDefinition) throws {
        for parameter in macro.parameters { if let value = parameter.defaultValue { try check(value, soft: false) } }
        for node in macro.body { try check(node, soft: false, inLoop: false) }
    }

    private static func check(_ expression: JinjaExpression, soft: Bool) throws {
        var failure: TokenizerError?
        visit(expression, soft: soft) { expression, soft in
            guard failure == nil, !soft else { return }
            switch expression.kind {
            case .filter(_, let name, _) where !JinjaFilters.exists(name):
                failure = JinjaFailure.syntax("no filter named '\(name)'", at: expression.position)
            case .test(_, let name, _) where !JinjaTests.exists(name):
                failure = JinjaFailure.syntax("no test named '\(name)'", at: expression.position)
            default: break
            }
        }
        if let failure { throw failure }
    }

    /// Calls `body` on `expression` and every sub-expression, with whether it sits inside a conditional expression.
    private static func visit(_ expression: JinjaExpression, soft: Bool, _ body: (JinjaExpression, Bool) -> Void) {
        body(expression, soft)
        let inner = soft || { if case .conditional = expression.kind { return true } else { return false } }()
        for child in children(of: expression) { visit(child, soft: inner, body) }
    }

    private static func visitExpressions(in node: JinjaNode, _ body: (JinjaExpression) -> Void) {
        func all(_ expression: JinjaExpression?) {
            guard let expression else { return }
            visit(expression, soft: false) { expression, _ in body(expression) }
        }
        func nodes(_ list: [JinjaNode]) { for node in list { visitExpressions(in: node, body) } }
        func macro(_ definition: JinjaMacroDefinition) {
            for parameter in definition.parameters { all(parameter.defaultValue) }
            nodes(definition.body)
        }
        switch node {
        case .text, .breakLoop, .continueLoop, .unsupported: break
        case .output(let expression): all(expression)
        case .forLoop(let loop):
            all(loop.iterable)
            all(loop.condition)
            nodes(loop.body)
            nodes(loop.otherwise)
        case .conditional(let branches, let otherwise):
            for branch in branches {
                all(branch.condition)
                nodes(branch.body)
            }
            nodes(otherwise)
        case .assign(_, let value, _): all(value)
        case .assignBlock(_, let filter, let body, _):
            all(filter)
            nodes(body)
        case .macro(let definition): macro(definition)
        case .callBlock(let call, let caller):
            all(call)
            macro(caller)
        case .filterBlock(let filter, let body):
            all(filter)
            nodes(body)
        case .with(let targets, let body):
            for (_, value) in targets { all(value) }
            nodes(body)
        case .generation(let body): nodes(body)
        }
    }

    private static func children(of expression: JinjaExpression) -> [JinjaExpression] {
        func arguments(_ list: JinjaArgumentList) -> [JinjaExpression] {
            list.positional + list.keywords.map(\.value) + [list.spreadPositional, list.spreadKeywords].compactMap { $0 }
        }
        switch expression.kind {
        case .constant, .name: return []
        case .list(let items), .tuple(let items), .concat(let items): return items
        case .dictionary(let pairs): return pairs.flatMap { [$0.key, $0.value] }
        case .attribute(let base, _), .not(let base), .negate(let base), .plus(let base): return [base]
        case .item(let base, let key): return [base, key]
        case .slice(let start, let stop, let step): return [start, stop, step].compactMap { $0 }
        case .call(let callee, let list): return [callee] + arguments(list)
        case .filter(let base, _, let list): return [base].compactMap { $0 } + arguments(list)
        case .test(let base, _, let list): return [base] + arguments(list)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right): return [left, right]
        case .compare(let first, let rest): return [first] + rest.map(\.1)
        case .conditional(let value, let condition, let otherwise): return [value, condition] + [otherwise].compactMap { $0 }
        }
    }
}
