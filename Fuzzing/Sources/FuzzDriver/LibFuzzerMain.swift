#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer
import WStreamFuzzing

/// The main of every `fuzz-<target>` executable.
///
/// `fuzz-<target> seeds DIR` writes the target's seeds into DIR (generated ones, and ones made from the shared model
/// files when they are there); `fuzz-<target> outcomes DIR` runs every input in DIR once and counts how each ended
/// (accepted, or the type of error that rejected it), which shows how deep a corpus reaches; any other arguments
/// go to libFuzzer (`-max_total_time=60 corpus/`, `-merge=1 …`, or a crash file to reproduce). The shared model
/// files are read from `$WSTREAM_SHARED/models`, else `../shared/models` (relative to the working folder, which
/// `make fuzz` sets to the repository), as the tests read them.
public enum LibFuzzerMain {
    /// The target every input goes to; set once, before libFuzzer starts.
    nonisolated(unsafe) static var target: (any FuzzTarget)?

    /// `../shared/models`, or `$WSTREAM_SHARED/models`.
    public static let sharedModels = (getenv("WSTREAM_SHARED").map { String(cString: $0) } ?? "../shared") + "/models"

    /// Runs the command line against the target `make` returns.
    public static func run(_ make: () throws -> any FuzzTarget) -> Never {
        do {
            let made = try make()
            let arguments = CommandLine.arguments
            if arguments.count == 3, arguments[1] == "seeds" {
                try writeSeeds(of: made, to: arguments[2])
                exit(0)
            }
            if arguments.count == 3, arguments[1] == "outcomes" {
                try countOutcomes(of: made, in: arguments[2])
                exit(0)
            }
            target = made
        } catch {
            report("fuzz: \(error)")
            exit(1)
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
    }

    /// Writes a line to standard error.
    private static func report(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    private static func countOutcomes(of target: any FuzzTarget, in directory: String) throws {
        let outcomes = try FuzzOutcomes.count(target, inputsIn: directory)
        for (outcome, count) in outcomes { print("\(count)\t\(outcome)") }
        print("\(outcomes.reduce(0) { $0 + $1.count })\tinputs")
    }

    private static func writeSeeds(of target: any FuzzTarget, to directory: String) throws {
        let shared = access(sharedModels, F_OK) == 0 ? sharedModels : nil
        if shared == nil { report("fuzz: \(sharedModels) is missing: writing the generated seeds only") }
        guard mkdir(directory, 0o755) == 0 || errno == EEXIST else { throw FuzzingError.scratch(path: directory, operation: "mkdir", reason: String(cString: strerror(errno))) }
        let seeds = try target.seeds(sharedModels: shared)
        for seed in seeds {
            let path = directory + "/seed-" + seed.name
            guard let file = fopen(path, "wb") else { throw FuzzingError.scratch(path: path, operation: "fopen", reason: String(cString: strerror(errno))) }
            let written = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
            guard written == seed.bytes.count else { throw FuzzingError.scratch(path: path, operation: "fwrite", reason: "short write") }
        }
        print("\(type(of: target).name): \(seeds.count) seeds in \(directory)")
    }
}

/// libFuzzer's callback: one input through the target. Errors are the code under test rejecting the input cleanly;
/// only traps and sanitizer reports are findings.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    try? LibFuzzerMain.target!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
