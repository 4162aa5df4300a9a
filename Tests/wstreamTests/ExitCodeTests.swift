import Testing
import TestSupport

/// Usage text and exit status 64 are for bad arguments; a file that cannot be read or used is an error of its own
/// (status 1) that names the file, without the usage text.
@Suite struct ExitCodeTests {
    @Test func anUnreadableTextFileIsAnErrorNamingItNotAUsageError() throws {
        let model = try Fixtures.storiesHF()
        let result = try WStreamExecutable.run("eval", model.path, "--text", "/nonexistent/story.txt")
        #expect(result.exitStatus == 1, "\(result)")
        #expect(result.stderr.contains("/nonexistent/story.txt") && result.stderr.contains("No such file or directory"), "\(result)")
        #expect(!result.stderr.contains("Usage:"), "\(result)")
    }

    @Test func aMissingModelIsAnErrorNamingItNotAUsageError() throws {
        let result = try WStreamExecutable.run("run", "/nonexistent/model.wst", "--prompt", "hi")
        #expect(result.exitStatus == 1, "\(result)")
        #expect(result.stderr.contains("/nonexistent/model.wst"), "\(result)")
        #expect(!result.stderr.contains("Usage:"), "\(result)")
    }

    @Test func aBadArgumentIsAUsageError() throws {
        let result = try WStreamExecutable.run("run", "/nonexistent/model.wst")
        #expect(result.exitStatus == 64, "\(result)")
        #expect(result.stderr.contains("Usage:"), "\(result)")
    }
}
