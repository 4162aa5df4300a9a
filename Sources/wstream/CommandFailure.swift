/// A command that could not do its work for a reason other than its arguments: an unreadable input file, inputs
/// that do not go together. ArgumentParser prints it as `Error: …` and exits 1 — no usage text, which is for bad
/// arguments (`ValidationError`, exit 64) only.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
