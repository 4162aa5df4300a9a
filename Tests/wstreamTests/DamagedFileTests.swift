import Testing
import TestSupport
import WStreamFormat

/// A damaged or truncated `.wst` file is reported with its name (and the tensor's), never computed on or crashed on.
@Suite struct DamagedFileTests {
    @Test func verifyOfAFlippedByteInAFrameExitsOneNamingTheTensor() throws {
        let directory = TemporaryDirectory("wstream-e2e-damage")
        let (path, tensor) = try damagedCopy(of: try Fixtures.storiesHF(), in: directory)
        let result = try WStreamExecutable.run("verify", path)
        #expect(result.termination == .exited(1), "\(result)")
        #expect(result.stderr.contains(tensor), "stderr should name \(tensor): \(result)")
        #expect(!result.stdout.contains("OK"), "\(result)")
    }

    @Test func runOnAFlippedByteInAFrameFailsNamingTheTensor() throws {
        let directory = TemporaryDirectory("wstream-e2e-damage")
        let (path, tensor) = try damagedCopy(of: try Fixtures.storiesHF(), in: directory)
        let result = try WStreamExecutable.run("run", path, "--prompt", "Once upon a time", "-n", "8", "--temperature", "0")
        #expect(result.exitStatus.map { $0 != 0 } == true, "a damaged frame must fail the run, not crash or succeed: \(result)")
        #expect(result.stderr.contains(tensor), "stderr should name \(tensor): \(result)")
    }

    @Test(arguments: ["inspect", "verify", "run"])
    func aTruncatedFileIsRefusedWithItsName(command: String) throws {
        let directory = TemporaryDirectory("wstream-e2e-truncated")
        let path = directory.file("truncated.wst")
        let model = try Fixtures.storiesHF()
        try FileOperations.copy(model.path, to: path)
        try FileOperations.truncate(path, to: try #require(FileOperations.size(path)) / 2)
        let arguments = command == "run" ? ["run", path, "--prompt", "Once", "-n", "4"] : [command, path]
        let result = try WStreamExecutable.run(arguments)
        #expect(result.exitStatus.map { $0 != 0 } == true, "expected a clean non-zero exit: \(result)")
        #expect(result.stderr.contains(path), "stderr should name the file: \(result)")
        #expect(result.stderr.contains("truncated"), "stderr should say what is wrong: \(result)")
    }

    @Test func aFileThatIsNotAContainerIsRefusedWithItsName() throws {
        let directory = TemporaryDirectory("wstream-e2e-garbage")
        let path = directory.file("notes.wst")
        try FileOperations.write(String(repeating: "not a model\n", count: 100), to: path)
        let result = try WStreamExecutable.run("inspect", path)
        #expect(result.exitStatus.map { $0 != 0 } == true, "\(result)")
        #expect(result.stderr.contains("\(path): not a wstream container"), "\(result)")
    }

    /// A copy of `model` in `directory` with one byte inverted in the middle of a frame of a block's tensor.
    /// - Returns: the copy's path and the damaged tensor's name.
    private func damagedCopy(of model: PackedModel, in directory: TemporaryDirectory) throws -> (String, String) {
        let path = directory.file("damaged.wst")
        try FileOperations.copy(model.path, to: path)
        let name = TensorName.block(2, .ffnDown)
        let frame: FrameEntry = try {
            let reader = try ContainerReader(path: path)
            let tensor = try #require(reader.tensor(named: name))
            return try #require(tensor.frames.first)
        }()
        try FileOperations.flipByte(in: path, at: Int(frame.offset + frame.storedLength / 2))
        return (path, name)
    }
}
