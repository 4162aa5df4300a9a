#if canImport(Glibc)
import Glibc
#endif
import WStream

/// What `wstream serve` runs: the models, the address, the budget and the limits.
public struct ServerConfiguration: Sendable {
    /// A model given as `--model id=path`.
    public struct ModelSource: Sendable, Equatable {
        public var id: String
        public var path: String

        /// - Parameters:
        ///   - id: the name requests use in `model`.
        ///   - path: the `.wst` file.
        public init(id: String, path: String) {
            self.id = id
            self.path = path
        }

        /// Parses `id=path`.
        /// - Throws: `ServerError.invalidModelArgument` without an `=`, an id or a path.
        public init(parsing text: String) throws {
            guard let equals = text.firstIndex(of: "=") else { throw ServerError.invalidModelArgument(text, detail: "no '='") }
            let id = String(text[..<equals])
            let path = String(text[text.index(after: equals)...])
            guard !id.isEmpty, !path.isEmpty else { throw ServerError.invalidModelArgument(text, detail: "empty id or path") }
            guard id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:/".contains($0) }) else {
                throw ServerError.invalidModelArgument(text, detail: "the id may hold letters, digits and - _ . : / only")
            }
            self.init(id: id, path: path)
        }
    }

    public var models: [ModelSource]
    /// Address to listen on; loopback unless asked otherwise.
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed at start).
    public var port = 8080
    /// Ceiling on the process's peak RSS; nil loads every model fully resident.
    public var budget: MemoryBudget?
    /// Requests in flight per model (each with its own KV cache in the budget).
    public var parallel = 1
    /// Requests per model that may wait for a slot before the server answers 503.
    public var queueLength = 16
    /// Unload a model after this long without requests; nil never.
    public var idleTimeout: Duration?
    /// KV-cache positions per sequence (capped by each model's own context).
    public var contextLength = 2048
    /// Compute threads per model.
    public var threads = Engine.coreCount
    /// When set, every route except /health requires `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest request body accepted.
    public var maxRequestBytes = 1 << 20
    /// Holds the instance lock.
    public var stateDirectory = ServerConfiguration.defaultStateDirectory
    /// How long in-flight requests may take to finish after SIGTERM or SIGINT before they are cancelled.
    public var gracePeriod = Duration.seconds(10)

    /// Kept out of the models' share of the budget for what the process needs per connection and request
    /// beyond its measured baseline: NIO buffers, response bodies, JSON, event-loop thread stacks and the
    /// allocator's slack. 16 MiB held 16 concurrent streaming clients with a peak 5 MiB above the baseline.
    public static let connectionReserveBytes = 16 << 20

    /// The defaults for everything but the models.
    public init(models: [ModelSource]) {
        self.models = models
    }

    /// `$XDG_RUNTIME_DIR/wstream`, or `/tmp/wstream-<uid>` without it.
    public static var defaultStateDirectory: String {
        if let runtime = getenv("XDG_RUNTIME_DIR") { return String(cString: runtime) + "/wstream" }
        return "/tmp/wstream-\(getuid())"
    }

    /// Parses `300`, `90s`, `5m`, `1h`, `250ms`; `0` means never.
    /// - Throws: `ServerError.invalidDuration`.
    public static func parseDuration(_ text: String) throws -> Duration? {
        let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var number = Substring(text)
        var scale = 1000.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.milliseconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { throw ServerError.invalidDuration(text) }
        return value == 0 ? nil : .milliseconds(Int64((value * scale).rounded()))
    }
}
