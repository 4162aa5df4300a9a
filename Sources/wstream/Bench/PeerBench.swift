import FoundationEssentials
import WStreamProcess
import WStreamRuntime

/// A llama.cpp the user already has (`llama-bench`), run on its GGUF of the same weights so that the figures can be
/// compared in one run. wstream never builds or ships a peer.
struct PeerBench {
    let executable: String
    let gguf: String

    /// Prefill of `promptTokens`, then decode of `generate` tokens after them, on `threads` threads, inside `cgroup`
    /// when given: two `llama-bench` invocations, because its decode test otherwise starts from an empty context
    /// while wstream's decodes after the prompt (`-d`, the depth, makes them the same). A `llama-bench` too old for
    /// `-d` decodes from an empty context, which the run's detail says.
    func run(promptTokens: Int, generate: Int, threads: Int, repetitions: Int, cgroup: MemoryCgroup?, timeout: Double) throws -> BenchReport.PeerRun {
        var run = BenchReport.PeerRun(memoryLimit: cgroup?.limit)
        let common = ["-t", "\(threads)", "-r", "\(repetitions)", "-o", "json"]
        let prefill = try invoke(["-p", "\(promptTokens)", "-n", "0"] + common, cgroup: cgroup, timeout: timeout)
        guard case .success(let prefillTests) = prefill else {
            if case .failure(let detail) = prefill { run.detail = detail }
            return run
        }
        run.prefillTokensPerSecond = prefillTests.first { $0.n_prompt > 0 && $0.n_gen == 0 }?.avg_ts
        var decode = try invoke(["-p", "0", "-n", "\(generate)", "-d", "\(promptTokens)"] + common, cgroup: cgroup, timeout: timeout)
        if case .failure(let detail) = decode, !detail.contains("no result within") {
            decode = try invoke(["-p", "0", "-n", "\(generate)"] + common, cgroup: cgroup, timeout: timeout)
            run.detail = "(decode from an empty context: this llama-bench has no -d)"
        }
        switch decode {
        case .success(let tests): run.decodeTokensPerSecond = tests.first { $0.n_gen > 0 && $0.n_prompt == 0 }?.avg_ts
        case .failure(let detail): run.detail = detail
        }
        return run
    }

    /// One `llama-bench` invocation with `arguments` after the model: its tests, or why there are none.
    private func invoke(_ arguments: [String], cgroup: MemoryCgroup?, timeout: Double) throws -> Outcome {
        var command = (executable: executable, arguments: ["-m", gguf] + arguments)
        if let cgroup { command = cgroup.command(command.executable, command.arguments) }
        let result = try CommandRunner.run(command.executable, command.arguments, timeout: timeout)
        guard result.succeeded else {
            return .failure(result.seconds >= timeout ? "no result within \(Int(timeout)) s" : "llama-bench failed (\(result.termination))")
        }
        guard let tests = try? JSONDecoder().decode([Test].self, from: Data(result.stdout.utf8)) else {
            return .failure("llama-bench printed no JSON results")
        }
        return .success(tests)
    }

    private enum Outcome {
        case success([Test])
        case failure(String)
    }

    /// The fields of `llama-bench -o json` that are read.
    private struct Test: Decodable {
        let n_prompt: Int
        let n_gen: Int
        let avg_ts: Double
    }
}
