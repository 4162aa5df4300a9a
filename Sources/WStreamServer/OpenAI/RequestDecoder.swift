import FoundationEssentials

/// Decodes a request body, turning every decoding failure into a `ServerError` that names the field at
/// fault (`messages.0.content`) and what it should have been.
enum RequestDecoder {
    /// - Throws: `ServerError.malformedBody` for invalid JSON or a body that is not an object;
    ///   `ServerError.invalidParameter` for a missing field, a wrong type or an invalid value.
    static func decode<Body: Decodable>(_ type: Body.Type, from bytes: [UInt8]) throws -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Self.serverError(for: error)
        }
    }

    static func serverError(for error: DecodingError) -> ServerError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .malformedBody("the request body is not valid JSON")
        case .dataCorrupted(let context):
            let param = path(context.codingPath)
            return .invalidParameter(param: param, message: "'\(param)': \(context.debugDescription)")
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return .malformedBody("the request body must be a JSON object")
        case .typeMismatch(let type, let context):
            let param = path(context.codingPath)
            return .invalidParameter(param: param, message: "'\(param)' must be \(describe(type))")
        case .keyNotFound(let key, let context):
            let param = path(context.codingPath + [key])
            return .invalidParameter(param: param, message: "'\(param)' is required")
        case .valueNotFound(let type, let context):
            let param = path(context.codingPath)
            return .invalidParameter(param: param, message: "'\(param)' must be \(describe(type)), not null")
        @unknown default:
            return .malformedBody("the request body could not be read")
        }
    }

    /// `messages.0.content`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// The JSON kind a Swift type stands for, as a person reads it.
    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

/// Any JSON value, decoded only to know that it is there.
struct PresentValue: Decodable {
    init(from decoder: any Decoder) throws {}
}
