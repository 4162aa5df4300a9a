/// One scope of variables. A `for` iteration, a macro call and a `{% set %}…{% endset %}` body each get
/// a frame whose parent is the scope they were written in; `if` does not, as in Jinja.
final class JinjaFrame {
    let parent: JinjaFrame?
    var variables: [String: JinjaValue] = [:]

    init(parent: JinjaFrame?) { self.parent = parent }

    /// The innermost binding of `name`.
    func lookup(_ name: String) -> JinjaValue? {
        var frame: JinjaFrame? = self
        while let current = frame {
            if let value = current.variables[name] { return value }
            frame = current.parent
        }
        return nil
    }
}
