/// Builds the `TokenizerError.chatTemplate` values the template engine throws, so every site words them alike.
enum JinjaFailure {
    static func syntax(_ message: String, at position: TemplatePosition?) -> TokenizerError {
        .chatTemplate(.syntax, message: message, position: position)
    }

    /// `construct` names what is missing, e.g. "the 'wordwrap' filter".
    static func unsupported(_ construct: String, at position: TemplatePosition?) -> TokenizerError {
        .chatTemplate(.unsupported, message: construct, position: position)
    }

    static func render(_ message: String, at position: TemplatePosition? = nil) -> TokenizerError {
        .chatTemplate(.render, message: message, position: position)
    }

    static func limit(_ message: String, at position: TemplatePosition? = nil) -> TokenizerError {
        .chatTemplate(.limit, message: message, position: position)
    }

    /// `error` with `position` filled in when it is a chat-template error that has none yet: low-level
    /// operations throw without a position and the node that ran them adds its own.
    static func located(_ error: any Error, at position: TemplatePosition) -> any Error {
        guard case let TokenizerError.chatTemplate(failure, message, nil) = error else { return error }
        return TokenizerError.chatTemplate(failure, message: message, position: position)
    }
}
