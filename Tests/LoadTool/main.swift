#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TestSupport

/// `wstream-load`: N clients streaming completions from a running `wstream serve` for T seconds, then
/// requests, errors, time to first token, aggregate tok/s and the server's peak RSS against its budget.
///
///     wstream-load --port 8080 --model stories --clients 16 --seconds 60 [--max-tokens 64] [--prompt TEXT]
/// A command line the tool cannot run with.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

struct LoadOptions {
    var port = 8080
    var model = ""
    var clients = 1
    var seconds = 10.0
    var maxTokens = 64
    var prompt = "Once upon a time"

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            switch flag {
            case "--port": port = Int(value) ?? port
            case "--model": model = value
            case "--clients": clients = max(1, Int(value) ?? clients)
            case "--seconds": seconds = Double(value) ?? seconds
            case "--max-tokens": maxTokens = Int(value) ?? maxTokens
            case "--prompt": prompt = value
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        guard !model.isEmpty else { throw UsageError(description: "give --model ID") }
    }
}

/// What one client saw.
struct ClientTally: Sendable {
    var requests = 0
    var errors = 0
    var tokens = 0
    var firstTokenSeconds: [Double] = []
    var lastError: String?
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
}

func format(_ value: Double, places: Int = 1) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let fraction = String(abs(scaled) % Int(scale))
    return "\(scaled / Int(scale)).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
}

/// An integer field of the /health JSON.
func healthFigure(_ name: String, port: Int) -> Int? {
    guard let health = try? LoopbackHTTPClient.send(port: port, path: "/health", timeout: 10),
          let start = health.text.firstRange(of: "\"\(name)\":")?.upperBound else { return nil }
    return Int(health.text[start...].prefix { $0.isNumber })
}

let options: LoadOptions
do {
    options = try LoadOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    print("error: \(error)\nusage: wstream-load --port P --model ID --clients N --seconds T [--max-tokens N] [--prompt TEXT]")
    exit(2)
}
let escapedPrompt = String(options.prompt.flatMap { character -> [Character] in
    switch character {
    case "\"", "\\": ["\\", character]
    case "\n": ["\\", "n"]
    default: [character]
    }
})
let body = #"{"model":"\#(options.model)","prompt":"\#(escapedPrompt)","max_tokens":\#(options.maxTokens),"# +
    #""temperature":0.8,"stream":true,"stream_options":{"include_usage":true}}"#
let start = ContinuousClock.now
let deadline = start + .milliseconds(Int64(options.seconds * 1000))
let finishedClients = Atomic<Int>(0)
let tallies = ParallelThreads.run(options.clients + 1) { index -> ClientTally in
    guard index < options.clients else {
        // Samples RSS while the clients run, beside the peak the server reports at the end.
        var highest = ClientTally()
        while finishedClients.load(ordering: .acquiring) < options.clients {
            if let rss = healthFigure("rss_bytes", port: options.port) { highest.tokens = max(highest.tokens, rss) }
            usleep(200_000)
        }
        return highest
    }
    defer { finishedClients.add(1, ordering: .releasing) }
    var tally = ClientTally()
    while ContinuousClock.now < deadline {
        let sent = ContinuousClock.now
        var parser = ServerSentEventParser()
        var events: [String] = []
        var firstToken: Double?
        do {
            let result = try LoopbackHTTPClient.stream(port: options.port, path: "/v1/completions", body: body) { bytes in
                let new = parser.push(bytes)
                if firstToken == nil, new.contains(where: { $0.contains("\"text\":\"") && !$0.contains("\"text\":\"\"") }) {
                    firstToken = seconds(since: sent)
                }
                events += new
                return true
            }
            let completion = try ServerSentEventParser.completion(from: events)
            tally.requests += 1
            guard result.status == 200, completion.done, completion.error == nil else {
                tally.errors += 1
                tally.lastError = "HTTP \(result.status) \(result.text.prefix(200))"
                continue
            }
            tally.tokens += completion.usage?["completion_tokens"] ?? 0
            if let firstToken { tally.firstTokenSeconds.append(firstToken) }
        } catch {
            tally.requests += 1
            tally.errors += 1
            tally.lastError = "\(error)"
        }
    }
    return tally
}
let elapsed = seconds(since: start)
let clients = tallies.dropLast()
let requests = clients.reduce(0) { $0 + $1.requests }
let errors = clients.reduce(0) { $0 + $1.errors }
let tokens = clients.reduce(0) { $0 + $1.tokens }
let firstTokens = clients.flatMap(\.firstTokenSeconds)
let peak = healthFigure("peak_rss_bytes", port: options.port)
let budget = healthFigure("budget_bytes", port: options.port)
print("clients     \(options.clients) for \(format(elapsed)) s against \(options.model) (max_tokens \(options.maxTokens))")
print("requests    \(requests - errors) completed, \(errors) errors")
print("first token p50 \(format(percentile(firstTokens, 0.5) * 1000)) ms, p99 \(format(percentile(firstTokens, 0.99) * 1000)) ms")
print("tokens      \(tokens) generated, \(format(Double(tokens) / elapsed)) tok/s aggregate")
print("server RSS  peak \(peak.map { format(Double($0) / 1_048_576) } ?? "-") MiB (sampled max \(format(Double(tallies.last!.tokens) / 1_048_576)) MiB), budget \(budget.map { format(Double($0) / 1_048_576) + " MiB" } ?? "none")")
if let failure = clients.compactMap(\.lastError).first { print("last error  \(failure)") }
exit(errors == 0 ? 0 : 1)
