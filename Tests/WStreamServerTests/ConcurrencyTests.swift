#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport

/// Several clients at once: the same greedy outputs as one by one, the budget held, and a client that goes
/// away gives its slot back.
@Suite struct ConcurrencyTests {
    @Test func eightConcurrentStreamingClientsGetTheirSoloOutputsAndRSSStaysWithinTheBudget() throws {
        let budget = 160 << 20
        let server = try ServerProcess(["--model", "stories=\(try ServedModels.stories())", "--model", "lfm2=\(try ServedModels.lfm2())",
                                        "--budget", "160M", "--parallel", "4", "--context", "256", "--threads", "1"])
        let requests = (0..<8).map { index in
            #"{"model":"\#(index % 2 == 0 ? "stories" : "lfm2")","messages":[{"role":"user","content":"Story \#(index): once there was"}],"# +
                #""max_tokens":\#(24 + index),"temperature":0,"stream":true}"#
        }
        let solo = try requests.map { try server.stream("/v1/chat/completions", $0).completion }
        #expect(solo.allSatisfy { $0.done && !$0.text.isEmpty })

        let finished = Atomic<Int>(0)
        let port = server.port
        let outcomes = ParallelThreads.run(requests.count + 1) { index -> [String] in
            guard index < requests.count else {
                // The watcher: /health's RSS while the clients run.
                var readings: [String] = []
                while finished.load(ordering: .acquiring) < requests.count {
                    if let health = try? LoopbackHTTPClient.send(port: port, path: "/health") { readings.append(health.text) }
                    usleep(5_000)
                }
                return readings
            }
            defer { finished.add(1, ordering: .releasing) }
            var parser = ServerSentEventParser()
            var events: [String] = []
            do {
                _ = try LoopbackHTTPClient.stream(port: port, path: "/v1/chat/completions", body: requests[index]) { bytes in
                    events += parser.push(bytes)
                    return true
                }
                return [try ServerSentEventParser.completion(from: events).text]
            } catch {
                return ["failed: \(error)"]
            }
        }
        #expect(Array(outcomes.prefix(requests.count)).map(\.first) == solo.map(\.text), "concurrent outputs differ from solo ones")
        let readings = outcomes.last!
        #expect(!readings.isEmpty)
        for reading in readings {
            let rss = Int(reading.firstMatch(of: /"rss_bytes":(\d+)/)?.1 ?? "") ?? .max
            #expect(rss <= budget, "RSS \(rss) above the budget \(budget) while serving")
        }
        let health = try server.health()
        #expect(health.peakRssBytes <= budget, "peak RSS \(health.peakRssBytes) above the budget \(budget)")
        #expect(health.models.allSatisfy { $0.state == "loaded" && $0.active == 0 })
    }

    /// With one slot and no queue, a second client is turned away with 503 and Retry-After while the first
    /// streams; once the first disconnects its generation stops and the slot is free again, long before the
    /// generation it asked for could have ended.
    @Test func aClientThatDisconnectsFreesItsSlotAndAFullQueueAnswers503() throws {
        let server = try ServerProcess(["--model", "lfm2=\(try ServedModels.lfm2())", "--parallel", "1", "--queue", "0",
                                        "--context", "2048", "--threads", "1"])
        let measured = try server.post("/v1/completions", #"{"model":"lfm2","prompt":"Hello","max_tokens":64,"temperature":0}"#)
        #expect(measured.status == 200)
        let longRequest = #"{"model":"lfm2","prompt":"Hello","max_tokens":2000,"temperature":1,"seed":1,"stream":true}"#
        let clock = ContinuousClock()
        var rejected: HTTPResult?
        var disconnectedAt = clock.now
        var received = 0
        _ = try LoopbackHTTPClient.stream(port: server.port, path: "/v1/completions", body: longRequest) { _ in
            received += 1
            guard received == 3 else { return true }
            rejected = try? server.post("/v1/completions", #"{"model":"lfm2","prompt":"Hi","max_tokens":2}"#)
            disconnectedAt = clock.now
            return false
        }
        let busy = try #require(rejected)
        #expect(busy.status == 503 && busy.headers["retry-after"] != nil, "\(busy)")
        #expect(busy.text.contains("server_busy"))

        var freed: Duration?
        while clock.now - disconnectedAt < .seconds(10) {
            if try server.health().model("lfm2")?.active == 0 {
                freed = clock.now - disconnectedAt
                break
            }
            usleep(2_000)
        }
        let freedAfter = try #require(freed, "the slot was not given back")
        // Generations of one model run one at a time, so this one waits for the abandoned one unless it stopped.
        let followUpStart = clock.now
        #expect(try server.post("/v1/completions", #"{"model":"lfm2","prompt":"Hi","max_tokens":2}"#).status == 200)
        let followUp = clock.now - followUpStart
        // 64 tokens took at most that request's duration; the abandoned 2000 would take about 31 times as long.
        let secondsPer64 = Double(try #require(Int(server.stderr.firstMatch(of: /duration_ms=(\d+)[^\n]*tokens_out=64/)?.1 ?? ""))) / 1000
        let fullGeneration = Duration.seconds(secondsPer64 * 2000 / 64)
        #expect(freedAfter < fullGeneration / 2, "the slot came back only after \(freedAfter)")
        #expect(followUp < fullGeneration / 2, "the next request waited \(followUp): the abandoned generation went on")
        #expect(server.stderr.contains("the client went away"), "\(server.stderr)")
    }
}
