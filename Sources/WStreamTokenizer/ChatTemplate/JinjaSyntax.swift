/// A literal in a template: what `'text'`, `42`, `1.5`, `true` and `none` parse to.
enum JinjaConstant: Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case none
}

/// Arguments of a call, filter or test: positional, keyword, and `*args` / `**kwargs` spreads.
struct JinjaArgumentList: Sendable {
    var positional: [JinjaExpression] = []
    var keywords: [(name: String, value: JinjaExpression)] = []
    var spreadPositional: JinjaExpression?
    var spreadKeywords: JinjaExpression?
}

/// An expression with the place it starts in the template.
struct JinjaExpression: Sendable {
    indirect enum Kind: Sendable {
        case constant(JinjaConstant)
        case name(String)
        case list([JinjaExpression])
        case tuple([JinjaExpression])
        case dictionary([(key: JinjaExpression, value: JinjaExpression)])
        /// `value.name`: Jinja tries the attribute first, then the item.
        case attribute(JinjaExpression, String)
        /// `value[key]` and `value.0`: Jinja tries the item first, then the attribute.
        case item(JinjaExpression, JinjaExpression)
        /// `start:stop:step` inside `[…]`.
        case slice(start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
        case call(JinjaExpression, JinjaArgumentList)
        /// `value | name(arguments)`; `value` is nil for the filter of a `{% filter %}` block or `{% set x | f %}`.
        case filter(JinjaExpression?, name: String, JinjaArgumentList)
        case test(JinjaExpression, name: String, JinjaArgumentList)
        case not(JinjaExpression)
        case negate(JinjaExpression)
        case plus(JinjaExpression)
        case binary(JinjaBinaryOperator, JinjaExpression, JinjaExpression)
        case and(JinjaExpression, JinjaExpression)
        case or(JinjaExpression, JinjaExpression)
        /// `a ~ b ~ c`: every operand as text, joined.
        case concat([JinjaExpression])
        /// `a < b <= c`: Python's chained comparison.
        case compare(JinjaExpression, [(JinjaComparison, JinjaExpression)])
        /// `value if condition else otherwise`; without `else` the result is undefined.
        case conditional(value: JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
    }

    let kind: Kind
    let position: TemplatePosition
    /// Levels of sub-expressions below and including this one; the parser bounds it so that evaluating
    /// (and releasing) a long chain such as `a + b + c + …` cannot exhaust the stack.
    let depth: Int
}

enum JinjaBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum JinjaComparison: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in", notIn = "not in"
}

/// What `set`, `for` and `with` assign to.
indirect enum JinjaTarget: Sendable {
    case name(String)
    /// `namespace.attribute`, the only way to change a value outside the current scope.
    case namespaceAttribute(String, String, TemplatePosition)
    /// `a, b` unpacking.
    case tuple([JinjaTarget], TemplatePosition)

    /// Every name this target binds.
    var names: [String] {
        switch self {
        case .name(let name): [name]
        case .namespaceAttribute: []
        case .tuple(let targets, _): targets.flatMap(\.names)
        }
    }
}

/// A macro or the signature of a `{% call %}` block.
struct JinjaMacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaNode]
    /// Jinja only accepts extra positional or keyword arguments, or a `caller`, when the body mentions
    /// `varargs`, `kwargs` or `caller`.
    let readsVarargs: Bool
    let readsKeywordArguments: Bool
    let readsCaller: Bool
    let position: TemplatePosition
}

struct JinjaForLoop: Sendable {
    let target: JinjaTarget
    let iterable: JinjaExpression
    let condition: JinjaExpression?
    let body: [JinjaNode]
    let otherwise: [JinjaNode]
    let isRecursive: Bool
    let position: TemplatePosition
}

/// A statement or piece of text in a parsed template.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case forLoop(JinjaForLoop)
    case conditional(branches: [(condition: JinjaExpression, body: [JinjaNode])], otherwise: [JinjaNode])
    case assign(JinjaTarget, JinjaExpression, TemplatePosition)
    /// `{% set target %}…{% endset %}`, optionally through a filter.
    case assignBlock(JinjaTarget, filter: JinjaExpression?, body: [JinjaNode], TemplatePosition)
    case macro(JinjaMacroDefinition)
    /// `{% call(parameters) macro(arguments) %}body{% endcall %}`: the body becomes the macro's `caller()`.
    case callBlock(call: JinjaExpression, caller: JinjaMacroDefinition)
    case filterBlock(filter: JinjaExpression, body: [JinjaNode])
    case with(targets: [(JinjaTarget, JinjaExpression)], body: [JinjaNode])
    /// transformers' `{% generation %}` tag, which marks assistant text and renders its body unchanged.
    case generation([JinjaNode])
    case breakLoop(TemplatePosition)
    case continueLoop(TemplatePosition)
    /// A tag Jinja knows but wstream does not render (`include`, `extends`, `block`, …): fails when reached.
    case unsupported(String, TemplatePosition)
}

extension JinjaExpression.Kind {
    /// The deepest direct sub-expression's `depth` (0 for a leaf).
    var childDepth: Int {
        func deepest(_ expressions: [JinjaExpression?]) -> Int { expressions.map { $0?.depth ?? 0 }.max() ?? 0 }
        func deepest(_ arguments: JinjaArgumentList) -> Int {
            deepest(arguments.positional + arguments.keywords.map(\.value) + [arguments.spreadPositional, arguments.spreadKeywords])
        }
        switch self {
        case .constant, .name: return 0
        case .list(let items), .tuple(let items), .concat(let items): return deepest(items)
        case .dictionary(let pairs): return deepest(pairs.flatMap { [$0.key, $0.value] })
        case .attribute(let base, _), .not(let base), .negate(let base), .plus(let base): return base.depth
        case .item(let base, let key): return max(base.depth, key.depth)
        case .slice(let start, let stop, let step): return deepest([start, stop, step])
        case .call(let callee, let arguments): return max(callee.depth, deepest(arguments))
        case .filter(let base, _, let arguments): return max(base?.depth ?? 0, deepest(arguments))
        case .test(let base, _, let arguments): return max(base.depth, deepest(arguments))
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right): return max(left.depth, right.depth)
        case .compare(let first, let rest): return max(first.depth, deepest(rest.map(\.1)))
        case .conditional(let value, let condition, let otherwise): return deepest([value, condition, otherwise])
        }
    }
}
