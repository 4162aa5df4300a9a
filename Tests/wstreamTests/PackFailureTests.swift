#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// A pack that cannot finish leaves nothing at the target path: the file appears only when it is complete.
@Suite struct PackFailureTests {
    @Test func packIntoAFolderThatDoesNotExistFailsAndCreatesNothing() throws {
        let directory = TemporaryDirectory("wstream-e2e-pack")
        let missing = directory.file("no/such/folder")
        let output = missing + "/model.wst"
        let result = try WStreamExecutable.run("pack", try SharedModels.storiesHF, "-o", output)
        #expect(result.exitStatus.map { $0 != 0 } == true, "expected a clean non-zero exit: \(result)")
        #expect(result.stderr.contains(missing), "the error should name the folder: \(result)")
        #expect(!FileOperations.exists(directory.file("no")), "pack must not create folders")
        #expect(FileOperations.list(directory.path).isEmpty)
    }

    @Test func packUnderARegularFileFailsAndLeavesTheFileAlone() throws {
        let directory = TemporaryDirectory("wstream-e2e-pack")
        let plain = directory.file("plain")
        try FileOperations.write("keep me", to: plain)
        let output = plain + "/model.wst"
        let result = try WStreamExecutable.run("pack", try SharedModels.storiesHF, "-o", output)
        #expect(result.exitStatus.map { $0 != 0 } == true, "expected a clean non-zero exit: \(result)")
        #expect(result.stderr.contains(plain), "the error should name the path: \(result)")
        #expect(try FileContents.read(plain) == Array("keep me".utf8))
        #expect(FileOperations.list(directory.path) == ["plain"])
    }

    /// SIGKILL gives the writer no chance to clean up; a leftover temporary file is tolerated, the target is not.
    @Test func packKilledMidwayLeavesNoFileAtTheTargetPath() throws {
        let fixture = try Fixtures.synthetic()
        let source = try Fixtures.syntheticSource()
        let directory = TemporaryDirectory("wstream-e2e-kill")
        let output = directory.file("killed.wst")
        // Kill at half the time a complete pack took; if this pack is faster, try earlier.
        var delay = fixture.pack.seconds / 2
        var killed: CommandResult?
        for _ in 0..<4 where killed == nil {
            let result = try WStreamExecutable.run(["pack", source, "-o", output], killAfter: delay)
            if result.termination == .signaled(SIGKILL) { killed = result } else { unlink(output) }
            delay /= 3
        }
        let result = try #require(killed, "pack finished before every kill (last delay \(delay * 3) s)")
        #expect(!FileOperations.exists(output), "a killed pack left \(output): \(result)")
        for name in FileOperations.list(directory.path) {
            #expect(name.hasPrefix(".killed.wst.tmp-"), "unexpected file \(name) after a killed pack")
        }
    }
}
