/// One token of a chat template, as Jinja's lexer produces them (comments and whitespace inside tags dropped).
struct JinjaToken: Sendable {
    enum Kind: Sendable, Equatable {
        /// Text outside tags, whitespace control already applied.
        case data(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+ - * / // % ** ~ [ ] ( ) { } == != < <= > >= = . : | , ;`.
        case symbol(String)
        case end
    }

    let kind: Kind
    let position: TemplatePosition

    /// How an error message names this token.
    var spelling: String {
        switch kind {
        case .data: "template text"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .name(let name): "'\(name)'"
        case .string: "string literal"
        case .integer(let value): "'\(value)'"
        case .float(let value): "'\(value)'"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "end of template"
        }
    }

    /// The name when this is a name token with that spelling.
    func isName(_ name: String) -> Bool { kind == .name(name) }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }
}
