import ArgumentParser

@main
struct WStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wstream",
        abstract: "Stream 4-bit LLM weights from disk under a hard memory budget.",
        subcommands: [])
}
