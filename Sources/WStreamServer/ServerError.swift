#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import HTTPTypes
import Hummingbird
import WStream

/// Everything the server refuses, at start or per request. A request's error becomes an OpenAI-style body,
/// `{"error":{"message","type","param","code"}}`, with a 4xx status for every fault of the request.
public enum ServerError: Error, CustomStringConvertible, Equatable {
    // MARK: At start
    /// `--model` was not `id=path`, or an id was given twice.
    case invalidModelArgument(String, detail: String)
    /// A model cannot run even alone within what the budget leaves.
    case modelCannotFit(id: String, path: String, minimum: Int, available: Int, baseline: Int, reserve: Int)
    /// Another `wstream serve` holds the lock.
    case alreadyRunning(pid: Int32?, lockFile: String)
    /// The state directory or its lock file cannot be used.
    case stateDirectoryUnusable(path: String, errno: Int32)
    /// A duration such as `--idle-timeout` could not be read.
    case invalidDuration(String)

    // MARK: Per request
    /// The body is not valid JSON, or not an object.
    case malformedBody(String)
    /// A field has the wrong type, is missing, or is out of range.
    case invalidParameter(param: String, message: String)
    /// A field is known but not supported by this server.
    case unsupportedParameter(param: String, message: String)
    /// The prompt and `max_tokens` do not fit in the model's context.
    case contextExceeded(param: String, message: String)
    /// No model with this id.
    case unknownModel(String)
    /// The body is larger than the limit.
    case bodyTooLarge(limit: Int)
    /// No or a wrong API key.
    case unauthorized
    /// Every slot and the queue are taken.
    case overloaded(model: String, retryAfterSeconds: Int)
    /// The model does not fit beside the models now serving requests.
    case noRoom(model: String, needed: Int, free: Int, busy: [String], retryAfterSeconds: Int)
    /// A route that does not exist, or an HTTP error raised by the framework.
    case http(status: Int, message: String)
    /// The model failed to load or to generate.
    case modelFailure(model: String, detail: String)

    public var description: String {
        switch self {
        case .invalidModelArgument(let text, let detail):
            return "--model \(text): \(detail); write --model ID=PATH, e.g. --model lfm2=lfm2.wst"
        case .modelCannotFit(let id, let path, let minimum, let available, let baseline, let reserve):
            let needed = MemoryBudget(bytes: minimum + baseline + reserve)
            return "model \(id) (\(path)) needs at least \(ByteCount.format(minimum)), but the budget leaves \(ByteCount.format(max(available, 0))) "
                + "after the server's baseline of \(ByteCount.format(baseline)) and a reserve of \(ByteCount.format(reserve)) for connections; "
                + "use --budget \((needed.bytes + (1 << 20) - 1) >> 20)M or more, or a smaller --context or --parallel"
        case .alreadyRunning(let pid, let lockFile):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "another wstream serve is already running (\(holder) holds \(lockFile)); stop it first or use another --port and --state-dir"
        case .stateDirectoryUnusable(let path, let code):
            return "cannot use \(path) for the instance lock: \(String(cString: strerror(code)))"
        case .invalidDuration(let text):
            return "invalid duration '\(text)': write e.g. 300, 90s, 5m, 1h or 0 for never"
        case .malformedBody(let detail):
            return detail
        case .invalidParameter(_, let message), .unsupportedParameter(_, let message), .contextExceeded(_, let message):
            return message
        case .unknownModel(let id):
            return "the model '\(id)' does not exist; GET /v1/models lists the models served here"
        case .bodyTooLarge(let limit):
            return "the request body is larger than the limit of \(ByteCount.format(limit))"
        case .unauthorized:
            return "missing or wrong API key: send the header 'Authorization: Bearer <key>'"
        case .overloaded(let model, let seconds):
            return "model '\(model)' is busy: every slot and the queue are taken; retry in \(seconds) s"
        case .noRoom(let model, let needed, let free, let busy, let seconds):
            return "model '\(model)' needs \(ByteCount.format(needed)) but only \(ByteCount.format(free)) of the budget is free beside "
                + "the models serving requests (\(busy.joined(separator: ", "))); retry in \(seconds) s"
        case .http(_, let message):
            return message
        case .modelFailure(let model, let detail):
            return "model '\(model)': \(detail)"
        }
    }

    /// The HTTP status a request answered with this error gets.
    public var status: HTTPResponse.Status {
        switch self {
        case .malformedBody, .invalidParameter, .unsupportedParameter, .contextExceeded: .badRequest
        case .unknownModel: .notFound
        case .bodyTooLarge: .contentTooLarge
        case .unauthorized: .unauthorized
        case .overloaded, .noRoom: .serviceUnavailable
        case .http(let status, _): HTTPResponse.Status(code: status)
        case .invalidModelArgument, .modelCannotFit, .alreadyRunning, .stateDirectoryUnusable, .invalidDuration, .modelFailure: .internalServerError
        }
    }

    /// OpenAI's `error.type`.
    var type: String {
        switch self {
        case .unauthorized: "authentication_error"
        case .unknownModel: "invalid_request_error"
        case .overloaded, .noRoom: "server_busy"
        case .modelFailure, .invalidModelArgument, .modelCannotFit, .alreadyRunning, .stateDirectoryUnusable, .invalidDuration: "server_error"
        case .http(let status, _): status >= 500 ? "server_error" : "invalid_request_error"
        default: "invalid_request_error"
        }
    }

    /// OpenAI's `error.param`: the request field at fault.
    var param: String? {
        switch self {
        case .invalidParameter(let param, _), .unsupportedParameter(let param, _), .contextExceeded(let param, _): param
        case .unknownModel: "model"
        default: nil
        }
    }

    /// OpenAI's `error.code`.
    var code: String? {
        switch self {
        case .unauthorized: "invalid_api_key"
        case .unknownModel: "model_not_found"
        case .contextExceeded: "context_length_exceeded"
        case .unsupportedParameter: "unsupported_parameter"
        case .invalidParameter: "invalid_value"
        case .malformedBody: "invalid_json"
        case .bodyTooLarge: "request_too_large"
        default: nil
        }
    }

    /// Seconds a client should wait before retrying, for `Retry-After`.
    var retryAfterSeconds: Int? {
        switch self {
        case .overloaded(_, let seconds), .noRoom(_, _, _, _, let seconds): seconds
        default: nil
        }
    }

    /// The `{"error":{…}}` body.
    var body: ErrorBody {
        ErrorBody(error: .init(message: description, type: type, param: param, code: code))
    }
}

/// OpenAI's error body.
struct ErrorBody: Codable, Equatable {
    struct Detail: Codable, Equatable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            // OpenAI sends null rather than leaving the keys out.
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }
    var error: Detail
}

extension ServerError: HTTPResponseError {
    /// `Content-Type: application/json`, and `Retry-After` for a busy server.
    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return headers
    }

    /// The error as a response: its status, `Retry-After` when busy, and the OpenAI-style body.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body))))
    }
}
