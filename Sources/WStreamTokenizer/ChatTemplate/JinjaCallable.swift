/// Something a template can call: a macro, a method bound to a value (`text.strip`), a global function,
/// or a method of the `loop` object.
indirect enum JinjaCallable {
    case macro(JinjaMacro)
    /// A Python method of `receiver`, such as `str.split` or `dict.get`.
    case method(receiver: JinjaValue, name: String)
    /// `range`, `namespace`, `dict`, `raise_exception`, `strftime_now`, `dict.fromkeys`.
    case global(String)
    /// `loop.cycle`, `loop.changed`, or `loop(…)` itself in a recursive loop (name `""`).
    case loop(JinjaLoop, String)

    var depth: Int {
        if case .method(let receiver, _) = self { return receiver.depth + 1 }
        return 0
    }

    var typeName: String {
        switch self {
        case .macro: "Macro"
        case .method: "builtin_function_or_method"
        case .global: "function"
        case .loop: "method"
        }
    }
}
