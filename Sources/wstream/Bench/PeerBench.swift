import FoundationEssentials
import WStreamProcess
import WStreamRuntime

/// A llama.cpp the user already has (`llama-bench`), run on its GGUF of the same weights so that the figures can be
/// compared in one run. wstream never builds or ships a peer.
struct PeerBench {
    let executable: String
    let gguf: String

    /// One `llama-bench` run: prefill of `promptTokens`, then decode of `generate` tokens, on `threads` threads,
    /// inside `cgroup` when given.
    func run(promptTokens: Int, generate: Int, threads: Int, repetitions: Int, cgroup: MemoryCgroup?, timeout: Double) throws -> BenchReport.PeerRun {
        var command = (executable: executable, arguments: [
            "-m", gguf, "-p", "\(promptTokens)", "-n", "\(generate)", "-t", "\(threads)", "-r", "\(repetitions)", "-o", "json",
        ])
        if let cgroup { command = cgroup.command(command.executable, command.arguments) }
        let result = try CommandRunner.run(command.executable, command.arguments, timeout: timeout)
        var run = BenchReport.PeerRun(memoryLimit: cgroup?.limit)
        guard result.succeeded else {
            run.detail = result.seconds >= timeout ? "no result within \(Int(timeout)) s" : "llama-bench failed (\(result.termination))"
            return run
        }
        guard let tests = try? JSONDecoder().decode([Test].self, from: Data(result.stdout.utf8)) else {
            run.detail = "llama-bench printed no JSON results"
            return run
        }
        run.prefillTokensPerSecond = tests.first { $0.n_prompt > 0 && $0.n_gen == 0 }?.avg_ts
        run.decodeTokensPerSecond = tests.first { $0.n_gen > 0 && $0.n_prompt == 0 }?.avg_ts
        return run
    }

    /// The fields of `llama-bench -o json` that are read.
    private struct Test: Decodable {
        let n_prompt: Int
        let n_gen: Int
        let avg_ts: Double
    }
}
