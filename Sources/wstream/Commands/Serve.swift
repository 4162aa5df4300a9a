#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Logging
import WStream
import WStreamServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over an OpenAI-compatible HTTP API, all under one memory budget.",
        discussion: """
            Models are opened at start (a model that cannot fit the budget even alone is refused, with its \
            minimum) and loaded on their first request. --budget bounds the whole process's peak RSS: every \
            model, KV cache, HTTP buffer and thread. Idle models are unloaded after --idle-timeout, and to make \
            room for another. One instance per port and --state-dir: a second stops at once, naming the first.

              wstream serve --model lfm2=lfm2.wst --model stories=stories.wst --budget 1G --idle-timeout 5m
              curl localhost:8080/v1/chat/completions \\
                -d '{"model":"lfm2","messages":[{"role":"user","content":"Hi"}],"stream":true}'

            Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, GET /metrics.
            """)

    @Option(name: .customLong("model"), help: ArgumentHelp("A model to serve as ID=PATH (repeatable).", valueName: "id=path"))
    var models: [String] = []

    @Option(help: "Ceiling on the server's peak resident memory (VmHWM) with every model loaded, e.g. 1G (powers of 1024).")
    var budget: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Requests generating at once per model; each one's KV cache counts in the budget.")
    var parallel = 1

    @Option(help: "Requests per model that may wait for a slot before the server answers 503.")
    var queue = 16

    @Option(help: "Unload a model after this long without requests, e.g. 300, 90s, 5m, 1h; 0 = never.")
    var idleTimeout = "0"

    @Option(help: "KV-cache positions per request (prompt plus reply), at most each model's own context.")
    var context = 2048

    @Option(help: "Compute threads per model (default: the cores this process may use, by CPU affinity and cgroup quota).")
    var threads = Engine.coreCount

    @Option(help: "Require 'Authorization: Bearer KEY' on every route but /health (default: $WSTREAM_API_KEY).")
    var apiKey: String?

    @Option(help: "Largest request body accepted, e.g. 1M.")
    var maxBody = "1M"

    @Option(help: "Folder for the instance lock (default: $XDG_RUNTIME_DIR/wstream or /tmp/wstream-UID).")
    var stateDir: String?

    @Option(help: "After SIGTERM or SIGINT, how long in-flight requests may take to finish before they are cancelled.")
    var grace = "10s"

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one --model ID=PATH") }
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if queue < 0 { throw ValidationError("--queue must be 0 or more") }
        if context < 1 { throw ValidationError("--context must be at least 1") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        var configuration: ServerConfiguration
        do {
            configuration = ServerConfiguration(models: try models.map(ServerConfiguration.ModelSource.init(parsing:)))
            configuration.budget = try budget.map(MemoryBudget.init(parsing:))
            configuration.idleTimeout = try ServerConfiguration.parseDuration(idleTimeout)
            configuration.gracePeriod = try ServerConfiguration.parseDuration(grace) ?? .zero
            configuration.maxRequestBytes = try MemoryBudget(parsing: maxBody).bytes
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.host = host
        configuration.port = port
        configuration.parallel = parallel
        configuration.queueLength = queue
        configuration.contextLength = context
        configuration.threads = max(1, threads)
        configuration.apiKey = apiKey ?? getenv("WSTREAM_API_KEY").map { String(cString: $0) }
        if let stateDir { configuration.stateDirectory = stateDir }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let server = InferenceServer(configuration: configuration, logger: Logger(label: "wstream.serve"))
        do {
            try await server.run { host, port in
                Terminal.write("listening on http://\(host):\(port)\n")
            }
        } catch let error as ServerError {
            Terminal.error("error: \(error)")
            if case .modelCannotFit = error { throw ExitCode(2) }
            throw ExitCode(1)
        } catch let error as RuntimeError {
            Terminal.error("error: \(error)")
            throw ExitCode(2)
        } catch let error as EngineError {
            Terminal.error("error: \(error)")
            throw ExitCode(1)
        } catch {
            Terminal.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}
