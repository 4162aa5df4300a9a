import ArgumentParser
import WStreamFormat

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every checksum of a .wst file.",
        discussion: "Exits 0 when the file is intact, 1 naming the first damaged tensor otherwise.")

    @Argument(help: "The .wst file.")
    var model: String

    func run() throws {
        let bar = ProgressBar(label: "verifying")
        do {
            let reader = try ContainerReader(path: model)
            try reader.verify { done, total in bar.update(done: done, total: total, note: "frames") }
            bar.finish()
            print("\(model): OK (\(reader.metadata.tensors.count) tensors, \(reader.metadata.tensors.reduce(0) { $0 + $1.frames.count }) frames)")
        } catch {
            bar.finish()
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
