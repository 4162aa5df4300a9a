#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import WStreamRuntime

/// `wstream-soak`: starts `wstream serve` with the given models under a budget and runs N clients of mixed requests
/// (`SoakRequest`) against it: first a warm-up of `--warm-up` seconds, then the soak of `--seconds`, pausing every
/// `--idle-every` seconds until the idle timeout has unloaded every model; all along it samples the server's
/// /proc/<pid>/status every 100 ms. The server's RSS is read after the warm-up and again after the soak, each time
/// after an idle pause and with every model reloaded and its context written to the end. Exits 1 when the peak RSS
/// passed the budget, a request got a 5xx or failed otherwise, a pause did not unload every model, the RSS drifted
/// by more than 5 %, or the server did not stop cleanly on SIGTERM.
///
///     wstream-soak --model stories=stories.wst --model lfm2=lfm2.wst --budget 64M --seconds 600 --clients 4

let options: SoakOptions
do {
    options = try SoakOptions(Array(CommandLine.arguments.dropFirst()))
} catch {
    print("error: \(error)\n\(SoakOptions.usage)")
    exit(2)
}

/// `12.3 MiB`.
func mebibytes(_ bytes: Int) -> String {
    let tenths = Int((Double(bytes) / 1_048_576 * 10).rounded())
    return "\(tenths / 10).\(abs(tenths) % 10) MiB"
}

/// `+1.23 %` for a fraction of 0.0123.
func signedPercent(_ fraction: Double) -> String {
    let hundredths = Int((abs(fraction) * 10000).rounded())
    let decimals = hundredths % 100
    return "\(fraction < 0 ? "-" : "+")\(hundredths / 100).\(decimals < 10 ? "0" : "")\(decimals) %"
}

/// Loads every model, writes its state to its end and reads the server's RSS, so that readings before and after the
/// soak compare like with like: for each model, `--parallel` completions at once whose prompts fill the context (every
/// sequence's KV cache written to its last position), and a streamed chat, model after model. Under a budget that
/// cannot hold every model at once, loading one unloads another: the same sequence leaves the same models loaded.
/// - Returns: the RSS and each model's state, read once the server reports the last model loaded.
func warmUp(_ server: SoakServer) throws -> (resident: Int, states: [String: String]) {
    for model in options.models {
        let prompt = (0..<(model.context - 2)).map { String($0 % model.vocabulary) }.joined(separator: ",")
        let full = #"{"model":"\#(model.id)","prompt":[\#(prompt)],"max_tokens":2,"temperature":0}"#
        let chat = #"{"model":"\#(model.id)","messages":[{"role":"user","content":"Hello"}],"max_tokens":8,"stream":true}"#
        let results = ParallelThreads.run(options.parallel + 1) { index in
            Result { try LoopbackHTTPClient.send(port: server.port, method: "POST", path: index == 0 ? "/v1/chat/completions" : "/v1/completions",
                                                 body: index == 0 ? chat : full) }
        }
        for result in results {
            let response = try result.get()
            guard response.status == 200 else { throw UsageError(description: "a warm-up request to \(model.id) failed: \(response)") }
        }
    }
    let states = server.modelStates()
    guard states[options.models.last!.id] == "loaded" else {
        throw UsageError(description: "after the warm-up \(options.models.last!.id) is not loaded: \(states)")
    }
    return (MemorySampler.read(server.pid).resident, states)
}

let budget: Int
do {
    budget = try MemoryBudget(parsing: options.budget).bytes
} catch {
    print("error: \(error)")
    exit(2)
}
let server: SoakServer
do {
    server = try SoakServer(executable: options.executable, arguments: options.models.flatMap { ["--model", "\($0.id)=\($0.path)"] } + [
        "--budget", options.budget, "--idle-timeout", "\(options.idleTimeout)s", "--context", "\(options.context)",
        "--parallel", "\(options.parallel)", "--queue", "\(options.clients * 2)",
    ])
} catch {
    print("error: \(error)")
    exit(2)
}
let sampler = MemorySampler(pid: server.pid, budget: budget)
let samplerThread = BackgroundThread { sampler.run() }

var failures: [String] = []
/// Runs the clients' mix of requests until `deadline`, pausing when `gate` says so.
func runClients(until deadline: ContinuousClock.Instant, gate: PauseGate, round: UInt64) -> SoakTally {
    ParallelThreads.run(options.clients) { index in
        SoakClient(port: server.port, models: options.models, seed: options.seed &* 1000 &+ round &* 100 &+ UInt64(index))
            .run(until: deadline, gate: gate)
    }.reduce(SoakTally(), +)
}

// The warm-up: the same mix for --warm-up seconds, so that the server's heap has reached what this load makes it
// hold before the reading the soak is compared with.
let pauses = PauseRecord()
let warmUpTally = runClients(until: .now + .milliseconds(Int64(options.warmUpSeconds * 1000)), gate: PauseGate(), round: 1)
idlePause()
let before: (resident: Int, states: [String: String])
do {
    before = try warmUp(server)
} catch {
    print("error: \(error)\n\(server.log.suffix(2000))")
    _ = server.stop()
    server.removeFiles()
    exit(1)
}

/// Waits (with no client running) until the idle timeout has unloaded every model, and records what the pause found.
func idlePause() {
    // The idle monitor checks every quarter of the timeout: the timeout and a bit more unloads every model.
    usleep(UInt32((Double(options.idleTimeout) + 2.5) * 1_000_000))
    let states = server.modelStates()
    pauses.record(unloadedAll: !states.isEmpty && states.values.allSatisfy { $0 == "unloaded" }, states: states,
                  resident: MemorySampler.read(server.pid).resident)
}

let start = ContinuousClock.now
let deadline = start + .milliseconds(Int64(options.seconds * 1000))
let gate = PauseGate()
let coordinator = BackgroundThread {
    guard options.idleEvery > 0 else { return }
    let pause = Double(options.idleTimeout) + 2.5
    while true {
        let next = ContinuousClock.now + .milliseconds(Int64(options.idleEvery * 1000))
        guard next + .milliseconds(Int64(pause * 1000)) < deadline else { return }
        while ContinuousClock.now < next { usleep(100_000) }
        gate.pause()
        idlePause()
        gate.resume()
    }
}
let tally = runClients(until: deadline, gate: gate, round: 2)
coordinator.join()
let elapsed = ContinuousClock.now - start

idlePause()
let residentAfter: Int
do {
    let after = try warmUp(server)
    residentAfter = after.resident
    if after.states != before.states { failures.append("the warm-ups left different models loaded: \(before.states), then \(after.states)") }
} catch {
    failures.append("\(error)")
    residentAfter = 0
}
let memory = sampler.stop()
samplerThread.join()
let ending = server.stop()
// VmHWM can trail VmRSS by a little (the kernel folds per-thread counters in lazily): the higher of the two is the peak.
let peak = max(memory.last.peak, memory.highestResident)

let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
let residentBefore = before.resident
let drift = residentBefore > 0 ? Double(residentAfter - residentBefore) / Double(residentBefore) : 0
print("soak        \(Int(seconds)) s, \(options.clients) clients against \(options.models.map(\.id).joined(separator: ", ")) (budget \(mebibytes(budget)), context \(options.context), parallel \(options.parallel), idle timeout \(options.idleTimeout) s)")
print("requests    \(tally.requests): \(tally.chat) chat, \(tally.requests - tally.chat) completions; \(tally.streamed) streamed, \(tally.disconnected) abandoned midway; \(tally.tokens) tokens generated")
print("            " + SoakRequest.Kind.allCases.map { "\(tally.kinds[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ") + " (\(tally.refused) refused with 400)")
print("errors      \(tally.errors): \(tally.serverErrors) with a 5xx status, \(tally.otherErrors) otherwise\(tally.lastError.map { "; last: \($0)" } ?? "")")
print("idle        \(pauses.count) pauses, every model unloaded in \(pauses.unloadedAll)\(pauses.lastStates.map { "; last states \($0)" } ?? "")")
print("            RSS with nothing loaded at each pause: \(pauses.idleResident.map(mebibytes).joined(separator: ", "))")
print("RSS         peak \(mebibytes(peak)) (VmHWM \(mebibytes(memory.last.peak)), highest of \(memory.samples) samples every 100 ms \(mebibytes(memory.highestResident))), budget \(mebibytes(budget)): \(Int(Double(peak) / Double(budget) * 100)) % used")
print("drift       \(mebibytes(residentBefore)) after \(Int(options.warmUpSeconds)) s of warm-up (\(warmUpTally.requests) requests, \(warmUpTally.errors) errors), \(mebibytes(residentAfter)) after the soak, each after an idle pause, with the models reloaded in turn and their contexts written to the end (\(signedPercent(drift)))")
print("server      \(ending.map { "\($0)" } ?? "killed: did not stop within 30 s of SIGTERM")")

if peak > budget || memory.samplesOverBudget > 0 { failures.append("the peak RSS \(mebibytes(peak)) passed the budget \(mebibytes(budget))") }
if warmUpTally.errors > 0 { failures.append("\(warmUpTally.errors) warm-up requests failed: \(warmUpTally.lastError ?? "")") }
if tally.serverErrors > 0 { failures.append("\(tally.serverErrors) requests got a 5xx status") }
if tally.otherErrors > 0 { failures.append("\(tally.otherErrors) requests failed") }
if options.idleEvery > 0, pauses.count > 0, pauses.unloadedAll < pauses.count { failures.append("\(pauses.count - pauses.unloadedAll) pauses did not unload every model") }
if abs(drift) > 0.05 { failures.append("RSS drifted by \(signedPercent(drift)), more than 5 %") }
if ending != .exited(0) { failures.append("the server did not exit 0 on SIGTERM") }
for failure in failures { print("FAIL        \(failure)") }
if !failures.isEmpty { print(server.log.split(separator: "\n").filter { $0.contains("error") || $0.contains("status=5") }.suffix(10).joined(separator: "\n")) }
server.removeFiles()
exit(failures.isEmpty ? 0 : 1)
