/// What kind of problem a `TokenizerError.chatTemplate` reports.
public enum ChatTemplateFailure: String, Sendable, Equatable {
    /// The template is not valid Jinja.
    case syntax
    /// The template uses Jinja that wstream does not render (a tag, filter or method it lacks); never a wrong prompt.
    case unsupported
    /// Rendering failed as it fails in Jinja itself: a type error, an undefined value used, a bad argument.
    case render
    /// The template called `raise_exception(message)`: it refuses this conversation.
    case raised
    /// The template exceeded a sandbox limit (loop iterations, recursion, output size, …).
    case limit
}
