import Testing
import TestSupport
import WStreamFuzzing

/// The inputs the fuzzers found a trap, a leak or a sanitizer report with, run through the same targets: each now
/// ends with a clean error that names the file and the problem.
@Suite struct ReproducerTests {
    /// Every input committed under `Tests/Fuzz/` (reproducers and the minimised corpora) returns or throws; a trap
    /// would end the test process.
    @Test(arguments: FuzzInputs.targetNames) func everyCommittedInputEndsWithoutATrap(_ name: String) throws {
        let target = try FuzzInputs.target(name)
        let files = try FuzzInputs.files(name, "crashes") + FuzzInputs.files(name, "corpus")
        for file in files {
            _ = try? target.run(Array(FileContents.read(file)))
        }
    }
}
