/// A macro (or a `{% call %}` block's `caller`) bound to the scope it was defined in, which it reads at
/// call time, as Jinja's closures do.
final class JinjaMacro {
    let definition: JinjaMacroDefinition
    let frame: JinjaFrame

    init(_ definition: JinjaMacroDefinition, frame: JinjaFrame) {
        self.definition = definition
        self.frame = frame
    }
}
