import FoundationEssentials
import TestSupport
import WStreamQuant

/// One client of the soak: sends random requests (`SoakRequest`) one after another until the deadline, checking
/// each answer.
struct SoakClient {
    let port: Int
    let models: [SoakOptions.Model]
    let seed: UInt64

    /// Sends requests until `deadline`, stopping between two of them while `gate` holds a pause.
    func run(until deadline: ContinuousClock.Instant, gate: PauseGate) -> SoakTally {
        var random = SplitMix64(seed: seed)
        var tally = SoakTally()
        gate.client(running: true)
        defer { gate.client(running: false) }
        while ContinuousClock.now < deadline {
            gate.checkpoint()
            let request = SoakRequest.random(models, using: &random)
            tally.requests += 1
            tally.chat += request.chat ? 1 : 0
            tally.streamed += request.stream ? 1 : 0
            tally.kinds[request.kind.rawValue, default: 0] += 1
            do {
                try send(request, into: &tally)
            } catch {
                tally.otherErrors += 1
                tally.lastError = "\(request.path) \(request.kind.rawValue): \(error)"
            }
        }
        return tally
    }

    private func send(_ request: SoakRequest, into tally: inout SoakTally) throws {
        var parser = ServerSentEventParser()
        var events: [String] = []
        let result = try LoopbackHTTPClient.stream(port: port, path: request.path, body: request.body, timeout: 300) { bytes in
            events += parser.push(bytes)
            return request.disconnectAfterEvents.map { events.count < $0 } ?? true
        }
        func failed(_ what: String) {
            if result.status >= 500 { tally.serverErrors += 1 } else { tally.otherErrors += 1 }
            tally.lastError = "\(request.path) \(request.kind.rawValue) to \(request.model.id): HTTP \(result.status): \(what)"
        }
        if request.kind == .overLimit {
            if result.status == 400, result.text.contains("context") { tally.refused += 1 } else { failed("expected 400 for a prompt past the context: \(result.text.prefix(300))") }
            return
        }
        guard result.status == 200 else { return failed(String(result.text.prefix(300))) }
        if let after = request.disconnectAfterEvents, events.count >= after {
            tally.disconnected += 1
            return
        }
        if request.stream {
            let completion = try ServerSentEventParser.completion(from: events)
            guard completion.done, completion.error == nil, completion.finishReason != nil else {
                return failed("an unfinished stream: \(completion.error ?? "no [DONE] or finish_reason")")
            }
            tally.tokens += completion.usage?["completion_tokens"] ?? 0
        } else {
            guard let usage = try? JSONDecoder().decode(Usage.self, from: Data(result.body)).usage, usage.completionTokens >= 1 else {
                return failed("no usage in \(result.text.prefix(300))")
            }
            tally.tokens += usage.completionTokens
        }
    }

    /// The part of an unstreamed answer the soak checks.
    private struct Usage: Decodable {
        struct Counts: Decodable {
            var completionTokens: Int

            enum CodingKeys: String, CodingKey {
                case completionTokens = "completion_tokens"
            }
        }
        var usage: Counts
    }
}
