/// An expression in a chat template.
indirect enum JinjaExpression: Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case none
    case variable(String)
    case list([JinjaExpression])
    case dictionary([(JinjaExpression, JinjaExpression)])
    case attribute(JinjaExpression, String)
    case item(JinjaExpression, JinjaExpression)
    case slice(JinjaExpression, start: JinjaExpression?, end: JinjaExpression?)
    case call(JinjaExpression, arguments: [JinjaExpression], keywords: [(String, JinjaExpression)])
    case filter(JinjaExpression, name: String, arguments: [JinjaExpression])
    case test(JinjaExpression, name: String, negated: Bool)
    case unary(String, JinjaExpression)
    case binary(String, JinjaExpression, JinjaExpression)
    case conditional(JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
}

/// A piece of a parsed template.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case forLoop(names: [String], iterable: JinjaExpression, condition: JinjaExpression?, body: [JinjaNode], otherwise: [JinjaNode])
    case conditional(branches: [(JinjaExpression, [JinjaNode])], otherwise: [JinjaNode])
    /// `set name = …` or `set namespace.attribute = …`.
    case assignment(name: String, attribute: String?, value: JinjaExpression)
    case breakLoop
    case continueLoop
}
