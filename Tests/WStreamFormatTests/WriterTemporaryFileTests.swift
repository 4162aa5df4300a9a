#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import WStreamFormat

/// The writer's temporary files: their names, and which leftovers a later writer may remove.
@Suite struct WriterTemporaryFileTests {
    let directory = TemporaryDirectory("wst-temporaries")

    @Test func theTemporaryFileIsAHiddenFileBesideTheDestinationNamedForItsProcess() throws {
        #expect(WriterTemporaryFile.path(for: "/models/lfm2.wst", processID: 42) == "/models/.lfm2.wst.tmp-42")
        #expect(WriterTemporaryFile.path(for: "lfm2.wst", processID: 7) == ".lfm2.wst.tmp-7")
        #expect(WriterTemporaryFile.path(for: "/lfm2.wst", processID: 7) == "/.lfm2.wst.tmp-7")
        let writer = try ContainerWriter(destination: directory.file("model.wst"))
        #expect(writer.temporaryPath == WriterTemporaryFile.path(for: directory.file("model.wst")))
    }

    @Test func onlyAWritersTemporaryNameYieldsItsProcess() {
        #expect(WriterTemporaryFile.writer(ofFileNamed: ".model.wst.tmp-4242") == 4242)
        #expect(WriterTemporaryFile.writer(ofFileNamed: ".a.tmp-1") == 1)
        for name in ["model.wst.tmp-42", ".model.wst.tmp-", ".model.wst.tmp-4x2", ".tmp-42", "..tmp-42", ".model.wst.tmp-0",
                     ".model.wst.tmp--3", ".model.wst.bak-42", ".model.wst", ".model.wst.tmp-99999999999999999999"] {
            #expect(WriterTemporaryFile.writer(ofFileNamed: name) == nil, "\(name)")
        }
    }

    @Test func leftoversOfProcessesThatNoLongerRunAreRemovedAndNothingElse() throws {
        let dead = try deadProcessID()
        let zeros = [UInt8](repeating: 0, count: 100_000)
        let removable = [
            ".killed.wst.tmp-\(dead)": zeros,
            ".renaming.wst.tmp-\(dead)": ContainerHeader.magic + [1, 0, 0, 0],
            ".empty.wst.tmp-\(dead)": [],
            ".short.wst.tmp-\(dead)": [0, 0, 0],
        ]
        let kept = [
            ".running.wst.tmp-\(getpid())": zeros,
            ".notes.txt.tmp-\(dead)": Array("someone else's temporary file".utf8),
            "model.wst": zeros,
            "model.wst.tmp-\(dead)": zeros,
        ]
        for (name, bytes) in removable.merging(kept, uniquingKeysWith: { $1 }) { try FileContents.write(bytes, to: directory.file(name)) }
        #expect(mkdir(directory.file(".folder.tmp-\(dead)"), 0o755) == 0)

        let removed = WriterTemporaryFile.removeAbandoned(besides: directory.file("new.wst"))
        #expect(Set(removed.map(\.path)) == Set(removable.keys.map(directory.file)))
        #expect(removed.allSatisfy { $0.processID == dead })
        #expect(Set(entries()) == Set(kept.keys).union([".folder.tmp-\(dead)"]))
    }

    @Test func aFolderThatCannotBeListedRemovesNothing() {
        #expect(WriterTemporaryFile.removeAbandoned(besides: directory.file("missing/model.wst")).isEmpty)
    }

    /// The id of a process that has ended and been reaped.
    private func deadProcessID() throws -> pid_t {
        let result = try CommandRunner.run("/bin/sh", ["-c", "echo $$"])
        return try #require(pid_t(result.stdout.filter(\.isNumber)), "\(result)")
    }

    private func entries() -> [String] {
        guard let folder = opendir(directory.path) else { return ["<cannot list>"] }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
