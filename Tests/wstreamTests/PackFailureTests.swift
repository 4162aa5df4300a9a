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

    /// SIGKILL gives the writer no chance to clean up: a leftover temporary file is tolerated until the next pack into
    /// the folder removes it; a file at the target is not.
    @Test func packKilledMidwayLeavesNoFileAtTheTargetPathAndTheNextPackRemovesItsTemporaryFile() throws {
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
        let leftovers = FileOperations.list(directory.path)
        for name in leftovers {
            #expect(name.hasPrefix(".killed.wst.tmp-"), "unexpected file \(name) after a killed pack")
        }
        let next = try WStreamExecutable.run("pack", try SharedModels.storiesHF, "-o", directory.file("next.wst"))
        #expect(next.succeeded, "\(next)")
        #expect(FileOperations.list(directory.path) == ["next.wst"], "the next pack should remove \(leftovers)")
        for name in leftovers {
            #expect(next.stderr.contains("removed \(directory.file(name))"), "the next pack should say what it removed: \(next)")
        }
    }

    /// SIGTERM and SIGINT let `pack` remove its temporary file before the signal ends it.
    @Test(arguments: [SIGTERM, SIGINT])
    func packInterruptedBySignalLeavesNothingBehind(signal: Int32) throws {
        let fixture = try Fixtures.synthetic()
        let source = try Fixtures.syntheticSource()
        let directory = TemporaryDirectory("wstream-e2e-signal")
        let output = directory.file("interrupted.wst")
        // Signal at half the time a complete pack took (the temporary file is being written); earlier if this one is faster.
        var delay = fixture.pack.seconds / 2
        var interrupted: CommandResult?
        for _ in 0..<4 where interrupted == nil {
            let result = try WStreamExecutable.run(["pack", source, "-o", output], killAfter: delay, signal: signal)
            if result.termination == .signaled(signal) { interrupted = result } else { unlink(output) }
            delay /= 3
        }
        let result = try #require(interrupted, "pack finished before every signal (last delay \(delay * 3) s)")
        #expect(FileOperations.list(directory.path).isEmpty, "an interrupted pack left files: \(result)")
    }

    /// Past a file-size limit (as on a full disk) the write fails: a clear error, no crash, nothing left.
    @Test func packPastAFileSizeLimitFailsNamingTheProblemAndLeavesNothing() throws {
        let directory = TemporaryDirectory("wstream-e2e-full")
        let output = directory.file("full.wst")
        let result = try WStreamExecutable.run(["pack", try SharedModels.storiesHF, "-o", output], fileSizeLimit: 64 * 1024)
        #expect(result.exitStatus == 1, "expected exit 1, not SIGXFSZ: \(result)")
        #expect(result.stderr.contains(directory.file(".full.wst.tmp-")), "the error should name the file: \(result)")
        #expect(result.stderr.contains("File too large"), "the error should say what is wrong: \(result)")
        #expect(FileOperations.list(directory.path).isEmpty)
    }

    /// Only leftovers of processes that no longer run are removed: a pack in progress keeps its temporary file.
    @Test func packLeavesTheTemporaryFileOfARunningProcessAlone() throws {
        let directory = TemporaryDirectory("wstream-e2e-live")
        let live = directory.file(".other.wst.tmp-\(getpid())")
        try FileContents.write([UInt8](repeating: 0, count: 4096), to: live)
        let result = try WStreamExecutable.run("pack", try SharedModels.storiesHF, "-o", directory.file("model.wst"))
        #expect(result.succeeded, "\(result)")
        #expect(FileOperations.list(directory.path) == [".other.wst.tmp-\(getpid())", "model.wst"])
        #expect(!result.stderr.contains("removed"), "\(result)")
    }
}
