import Testing
import TestSupport

/// Every subcommand explains itself and its key options.
@Suite struct HelpTests {
    static let keyOptions: [(command: String, options: [String])] = [
        ("pack", ["--output", "--bits", "--group-size"]),
        ("inspect", ["--tensors"]),
        ("verify", ["<model>"]),
        ("run", ["--budget", "--prompt", "--max-tokens", "--temperature", "--stats", "--print-ids", "--chat"]),
        ("tokenize", ["--text", "--parse-special"]),
        ("template", ["--messages", "--tools", "--no-generation-prompt", "--bos", "--eos", "--var", "--now"]),
        ("eval", ["--text", "--reference", "--budget"]),
        ("bench", ["--budgets", "--prompt-tokens", "--generate", "--threads", "--kernels"]),
        ("synth", ["--shape"]),
    ]

    @Test(arguments: keyOptions.map(\.command))
    func helpOfEverySubcommandExitsZeroAndNamesItsKeyOptions(command: String) throws {
        let options = Self.keyOptions.first { $0.command == command }!.options
        let result = try WStreamExecutable.run(command, "--help")
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("USAGE: wstream \(command)"), "\(result)")
        for option in options {
            #expect(result.stdout.contains(option), "`\(command) --help` does not mention \(option): \(result)")
        }
    }

    @Test func topLevelHelpListsEverySubcommand() throws {
        let result = try WStreamExecutable.run("--help")
        #expect(result.succeeded, "\(result)")
        for command in Self.keyOptions.map(\.command) {
            #expect(result.stdout.contains(command), "`wstream --help` does not list \(command): \(result)")
        }
    }

    @Test func runHelpHidesTheOptionsMeantForBench() throws {
        let result = try WStreamExecutable.run("run", "--help")
        #expect(!result.stdout.contains("--stats-json") && !result.stdout.contains("--prompt-ids"), "\(result)")
    }
}
