#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TestSupport

/// The `wstream serve` under soak: a child process on a free loopback port, its output in files.
final class SoakServer: Sendable {
    let pid: pid_t
    let port: Int
    private let scratch: TemporaryDirectory

    /// Starts `executable serve` with `arguments` (plus a free port and a state directory of its own) and waits until it
    /// listens.
    /// - Throws: `UsageError` with the server's output when it exits or does not listen within 60 s.
    init(executable: String, arguments: [String]) throws {
        scratch = TemporaryDirectory("wstream-soak")
        let full = ["serve"] + arguments + ["--port", "0", "--state-dir", scratch.file("state")]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, scratch.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, scratch.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + full).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else { throw UsageError(description: "cannot start \(executable): \(String(cString: strerror(status)))") }
        self.pid = pid
        for _ in 0..<3000 {
            let stdout = String(decoding: (try? FileContents.read(scratch.file("stdout"))) ?? [], as: UTF8.self)
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }),
               let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) {
                self.port = port
                return
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        let log = String(decoding: (try? FileContents.read(scratch.file("stderr"))) ?? [], as: UTF8.self)
        throw UsageError(description: "`\(executable) \(full.joined(separator: " "))` did not start listening:\n\(log)")
    }

    /// Removes the server's state folder and output files (`exit` skips the deinitializers that would).
    func removeFiles() {
        _ = system("rm -rf '\(scratch.path)'")
    }

    /// What the server wrote to standard error.
    var log: String { String(decoding: (try? FileContents.read(scratch.file("stderr"))) ?? [], as: UTF8.self) }

    /// Sends SIGTERM and waits up to `timeout` seconds for the graceful exit.
    /// - Returns: how the server ended, or nil when it had to be killed.
    func stop(timeout: Double = 30) -> Termination? {
        kill(pid, SIGTERM)
        for _ in 0..<Int(timeout * 50) {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return nil
    }

    /// `GET /health`: each model's state by id (empty when the server does not answer).
    func modelStates() -> [String: String] {
        guard let health = try? LoopbackHTTPClient.send(port: port, path: "/health", timeout: 10),
              let body = try? JSONDecoder().decode(Health.self, from: Data(health.body)) else { return [:] }
        return Dictionary(uniqueKeysWithValues: body.models.map { ($0.id, $0.state) })
    }

    /// The part of `/health` the soak reads.
    private struct Health: Decodable {
        struct Model: Decodable {
            var id: String
            var state: String
        }
        var models: [Model]
    }
}
