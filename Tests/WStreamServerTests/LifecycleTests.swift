#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Loading, unloading and sharing one budget; one instance; graceful shutdown — against the real binary.
@Suite struct LifecycleTests {
    @Test func aModelLoadsOnItsFirstRequestUnloadsWhenIdleAndReloads() throws {
        let server = try ServerProcess(["--model", "lfm2=\(try ServedModels.lfm2())", "--budget", "200M", "--idle-timeout", "1s",
                                        "--context", "1024", "--threads", "1"])
        #expect(try server.health().model("lfm2")?.state == "unloaded")
        #expect(try server.post("/v1/completions", #"{"model":"lfm2","prompt":"Hello","max_tokens":8}"#).status == 200)
        let loaded = try server.health()
        let model = try #require(loaded.model("lfm2"))
        #expect(model.state == "loaded" && model.poolBytes > 0 && model.kvBytes > 0)

        var unloaded: Health?
        for _ in 0..<100 where unloaded == nil {
            usleep(100_000)
            let health = try server.health()
            if health.model("lfm2")?.state == "unloaded" { unloaded = health }
        }
        let after = try #require(unloaded, "not unloaded within 10 s of a 1 s idle timeout")
        #expect(after.model("lfm2")?.poolBytes == 0)
        let freed = loaded.rssBytes - after.rssBytes
        #expect(freed >= (model.poolBytes + model.kvBytes) / 2, "RSS fell by \(freed) bytes only; the pool and cache held \(model.poolBytes + model.kvBytes)")

        #expect(try server.post("/v1/completions", #"{"model":"lfm2","prompt":"Hello","max_tokens":8}"#).status == 200)
        #expect(try server.health().model("lfm2")?.state == "loaded")
        #expect(server.stderr.contains("model unloaded") && server.stderr.contains("idle"))
    }

    /// Two models whose fully resident sizes add up to more than the budget allows both run, each re-planned to
    /// a share, with the same greedy text as without a budget.
    @Test func twoModelsRunTogetherUnderABudgetSmallerThanTheirSum() throws {
        let path = try ServedModels.lfm2()
        let arguments = ["--model", "a=\(path)", "--model", "b=\(path)", "--context", "512", "--threads", "1"]
        let request = { (id: String) in #"{"model":"\#(id)","prompt":"The cat sat","max_tokens":24,"temperature":0}"# }
        let free = try ServerProcess(arguments)
        let expected = try free.post("/v1/completions", request("a")).text.firstMatch(of: /"text":"([^"]*)"/)?.1
        let figures = try free.health()
        let wholePool = try #require(figures.model("a")).poolBytes
        let minimum = try #require(figures.model("a")).minimumBytes
        let full = try #require(figures.model("a")).fullyResidentBytes
        #expect(full > minimum)
        // Each model gets its minimum and half of what it lacks: together less than two fully resident models.
        let budget = figures.baselineBytes + figures.reserveBytes + 2 * minimum + (full - minimum) + (1 << 20)
        #expect(budget - figures.baselineBytes - figures.reserveBytes < 2 * full)

        let server = try ServerProcess(arguments + ["--budget", "\(budget)"])
        for id in ["a", "b", "a", "b"] {
            let result = try server.post("/v1/completions", request(id))
            #expect(result.status == 200, "\(result)")
            #expect(result.text.firstMatch(of: /"text":"([^"]*)"/)?.1 == expected)
        }
        let health = try server.health()
        #expect(health.models.allSatisfy { $0.state == "loaded" }, "both stay loaded: \(health.models)")
        #expect(health.models.allSatisfy { $0.poolBytes < wholePool }, "each holds a share of its weights, not all: \(health.models)")
        #expect(health.peakRssBytes <= budget, "peak \(health.peakRssBytes) above the budget \(budget)")
        #expect(server.stderr.contains("model re-planned"))
    }

    /// A budget with room for one model's minimum only: a request for the other unloads the idle one first.
    @Test func anIdleModelIsUnloadedToMakeRoomForAnother() throws {
        let path = try ServedModels.lfm2()
        let arguments = ["--model", "a=\(path)", "--model", "b=\(path)", "--context", "256", "--threads", "1"]
        let figures = try ServerProcess(arguments).health()
        let minimum = try #require(figures.model("a")).minimumBytes
        let budget = figures.baselineBytes + figures.reserveBytes + minimum + minimum / 2
        let server = try ServerProcess(arguments + ["--budget", "\(budget)"])
        let request = { (id: String) in #"{"model":"\#(id)","prompt":"The cat sat","max_tokens":4}"# }
        #expect(try server.post("/v1/completions", request("a")).status == 200)
        #expect(try server.post("/v1/completions", request("b")).status == 200)
        let health = try server.health()
        #expect(health.model("a")?.state == "unloaded" && health.model("b")?.state == "loaded", "\(health.models)")
        #expect(server.stderr.contains("making room for b"))
        #expect(try server.post("/v1/completions", request("a")).status == 200, "and back again")
        #expect(try server.health().peakRssBytes <= budget)
    }

    @Test func aModelThatCannotFitAloneIsRefusedAtStartWithItsMinimum() throws {
        let directory = TemporaryDirectory()
        let result = try WStreamExecutable.run(["serve", "--model", "lfm2=\(try ServedModels.lfm2())", "--budget", "24M",
                                                "--port", "0", "--state-dir", directory.path], killAfter: 60)
        #expect(result.termination == .exited(2), "\(result)")
        #expect(result.stderr.contains("model lfm2") && result.stderr.contains("needs at least"), "\(result)")
        #expect(result.stderr.firstMatch(of: /--budget \d+M or more/) != nil, "\(result)")
    }

    @Test func aSecondInstanceOnTheSameStateDirectoryOrPortStopsNamingTheFirst() throws {
        let model = "stories=\(try ServedModels.stories())"
        let directory = TemporaryDirectory()
        let first = try ServerProcess(["--model", model, "--state-dir", directory.path])
        let sameState = try WStreamExecutable.run(["serve", "--model", model, "--port", "0", "--state-dir", directory.path], killAfter: 30)
        #expect(sameState.termination == .exited(1), "\(sameState)")
        #expect(sameState.stderr.contains("already running") && sameState.stderr.contains("process \(first.pid)"), "\(sameState)")
        #expect(sameState.seconds < 10)

        let port = try Self.freePort()
        let onPort = try ServerProcess(["--model", model, "--port", "\(port)"])
        let samePort = try WStreamExecutable.run(["serve", "--model", model, "--port", "\(port)", "--state-dir", TemporaryDirectory().path], killAfter: 30)
        #expect(samePort.termination == .exited(1), "\(samePort)")
        #expect(samePort.stderr.contains("process \(onPort.pid)"), "\(samePort)")
        #expect(try first.get("/health").status == 200 && onPort.get("/health").status == 200, "the first instances keep running")
    }

    /// SIGTERM while a response streams: the server stops accepting, lets the request finish, exits 0 and
    /// releases its lock, so a new instance can start on the same state directory at once.
    @Test func sigtermLetsTheRequestInFlightFinishThenReleasesTheLock() throws {
        let model = "lfm2=\(try ServedModels.lfm2())"
        let directory = TemporaryDirectory()
        let server = try ServerProcess(["--model", model, "--state-dir", directory.path, "--context", "1024", "--threads", "1", "--grace", "30s"])
        var parser = ServerSentEventParser()
        var events: [String] = []
        var refused = false
        let request = #"{"model":"lfm2","prompt":"Hello","max_tokens":600,"temperature":1,"seed":3,"stream":true}"#
        _ = try LoopbackHTTPClient.stream(port: server.port, path: "/v1/completions", body: request) { bytes in
            events += parser.push(bytes)
            if events.count == 2 {
                server.signal(SIGTERM)
                usleep(300_000)
                refused = (try? LoopbackHTTPClient.send(port: server.port, path: "/health", timeout: 2)) == nil
            }
            return true
        }
        let completion = try ServerSentEventParser.completion(from: events)
        #expect(completion.done && completion.finishReason != nil, "the request in flight finished: \(events.suffix(3))")
        #expect(refused, "no new connection is accepted after SIGTERM")
        #expect(server.waitForExit(timeout: 30) == .exited(0), "\(server.stderr)")
        let next = try ServerProcess(["--model", model, "--state-dir", directory.path])
        #expect(try next.get("/health").status == 200)
    }

    /// A port nothing listens on now (bound and released).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw ServerStartFailure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
