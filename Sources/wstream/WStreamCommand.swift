import ArgumentParser
import WStreamRuntime

@main
struct WStreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wstream",
        abstract: "Run LLMs from 4-bit weights streamed off disk, under a hard peak-memory budget.",
        discussion: """
            Convert a model once with `pack`, then run it with `run --budget`: the process's peak resident \
            memory (VmHWM) stays within the budget even when the model is larger, because layers that do not \
            fit are decoded from the memory-mapped file just before use.

              wstream pack ./Llama-3.2-1B -o llama.wst
              wstream run llama.wst --budget 700M --prompt "Once upon a time" --stats
            """,
        version: "0.1.0",
        subcommands: [Pack.self, Inspect.self, Verify.self, Run.self, Serve.self, Tokenize.self, Template.self, Eval.self, Bench.self, Synth.self, FlipSweep.self])

    /// Sets the allocator and thread-stack limits before any thread starts (see `ProcessLimits`), then runs the command.
    static func main() async {
        ProcessLimits.prepare()
        await main(nil)
    }
}
