#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TestSupport

/// A `wstream serve` child process (the release binary) on a free loopback port, killed when released.
final class ServerProcess: @unchecked Sendable {
    let pid: pid_t
    let port: Int
    let arguments: [String]
    private let scratch: TemporaryDirectory
    private var reaped: Termination?

    /// The state directory, unique to this server unless `--state-dir` is among `arguments`.
    var stateDirectory: String { scratch.file("state") }

    /// Starts `wstream serve` with `arguments` (plus `--port 0` and a state directory of its own unless given)
    /// and waits until it listens.
    /// - Throws: `ServerStartFailure` with its output when it exits or does not listen within `timeout`.
    init(_ arguments: [String], timeout: Double = 60) throws {
        scratch = TemporaryDirectory("wstream-serve")
        var full = ["serve"] + arguments
        if !arguments.contains("--port") { full += ["--port", "0"] }
        if !arguments.contains("--state-dir") { full += ["--state-dir", scratch.file("state")] }
        self.arguments = full
        pid = try Self.spawn(WStreamExecutable.path, full, stdout: scratch.file("stdout"), stderr: scratch.file("stderr"))
        let deadline = Self.now() + timeout
        var port: Int?
        var exited: Termination?
        while port == nil, exited == nil, Self.now() < deadline {
            port = Self.listeningPort(in: Self.read(scratch.file("stdout")))
            exited = Self.reap(pid, blocking: false)
            if port == nil { usleep(20_000) }
        }
        guard let port else {
            if exited == nil { kill(pid, SIGKILL) }
            let ended = exited ?? Self.reap(pid, blocking: true)
            throw ServerStartFailure(description: "`wstream \(full.joined(separator: " "))` did not start listening (\(ended.map { "\($0)" } ?? "timed out")):\n"
                                     + Self.read(scratch.file("stdout")) + Self.read(scratch.file("stderr")))
        }
        reaped = exited
        self.port = port
    }

    deinit {
        if reaped == nil {
            kill(pid, SIGKILL)
            _ = Self.reap(pid, blocking: true)
        }
    }

    /// What the server logged so far.
    var stderr: String { Self.read(scratch.file("stderr")) }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits up to `timeout` seconds for the process to end.
    func waitForExit(timeout: Double) -> Termination? {
        let deadline = Self.now() + timeout
        while reaped == nil, Self.now() < deadline {
            reaped = Self.reap(pid, blocking: false)
            if reaped == nil { usleep(20_000) }
        }
        return reaped
    }

    // MARK: - Requests

    func get(_ path: String, headers: [String: String] = [:]) throws -> HTTPResult {
        try LoopbackHTTPClient.send(port: port, path: path, headers: headers)
    }

    func post(_ path: String, _ body: String, headers: [String: String] = [:]) throws -> HTTPResult {
        try LoopbackHTTPClient.send(port: port, method: "POST", path: path, headers: headers, body: body)
    }

    /// Posts a streaming request and adds up its events.
    func stream(_ path: String, _ body: String) throws -> (result: HTTPResult, completion: StreamedCompletion) {
        var parser = ServerSentEventParser()
        var events: [String] = []
        let result = try LoopbackHTTPClient.stream(port: port, path: path, body: body) { bytes in
            events += parser.push(bytes)
            return true
        }
        return (result, try ServerSentEventParser.completion(from: events))
    }

    /// `GET /health`, decoded.
    func health() throws -> Health {
        let result = try get("/health")
        guard result.status == 200 else { throw ServerStartFailure(description: "/health answered \(result)") }
        return try JSONDecoder().decode(Health.self, from: Data(result.body))
    }

    // MARK: - Process

    private static func spawn(_ executable: String, _ arguments: [String], stdout: String, stderr: String) throws -> pid_t {
        guard access(executable, X_OK) == 0 else {
            throw ServerStartFailure(description: "\(executable) is missing: build it with `swift build -c release --product wstream` (or run `make test`)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else { throw ServerStartFailure(description: "cannot start \(executable): \(String(cString: strerror(status)))") }
        return pid
    }

    private static func reap(_ pid: pid_t, blocking: Bool) -> Termination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result < 0 && errno == EINTR { continue }
            guard result == pid else { return nil }
            return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        }
    }

    /// The port of the `listening on http://127.0.0.1:PORT` line.
    private static func listeningPort(in stdout: String) -> Int? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }),
              let colon = line.lastIndex(of: ":") else { return nil }
        return Int(line[line.index(after: colon)...])
    }

    static func read(_ path: String) -> String {
        String(decoding: (try? FileContents.read(path)) ?? [], as: UTF8.self)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// A server did not come up; the message holds its output.
struct ServerStartFailure: Error, CustomStringConvertible {
    let description: String
}

/// The body of `GET /health`.
struct Health: Decodable {
    struct Model: Decodable {
        var id: String
        var state: String
        var poolBytes: Int
        var kvBytes: Int
        var minimumBytes: Int
        var fullyResidentBytes: Int
        var idleSeconds: Double
        var active: Int

        enum CodingKeys: String, CodingKey {
            case id, state, active
            case poolBytes = "pool_bytes"
            case kvBytes = "kv_bytes"
            case minimumBytes = "minimum_bytes"
            case fullyResidentBytes = "fully_resident_bytes"
            case idleSeconds = "idle_seconds"
        }
    }

    var status: String
    var rssBytes: Int
    var peakRssBytes: Int
    var budgetBytes: Int?
    var baselineBytes: Int
    var reserveBytes: Int
    var models: [Model]

    enum CodingKeys: String, CodingKey {
        case status, models
        case rssBytes = "rss_bytes"
        case peakRssBytes = "peak_rss_bytes"
        case budgetBytes = "budget_bytes"
        case baselineBytes = "baseline_bytes"
        case reserveBytes = "reserve_bytes"
    }

    func model(_ id: String) -> Model? { models.first { $0.id == id } }
}
