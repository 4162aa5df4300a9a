/// One libFuzzer target: the code under test driven by the bytes of one input.
///
/// Every input, whatever its bytes, ends one of two ways: `run` returns (the input was accepted and went all the
/// way through) or throws the error the code under test reported for it. A trap, a hang or a sanitizer report is
/// a bug. The executables in `Fuzzing/` call `run` from `LLVMFuzzerTestOneInput`; the regression tests call it with
/// the inputs under `Tests/Fuzz/<name>/`.
public protocol FuzzTarget {
    /// The target's name: its folder `Tests/Fuzz/<name>/` and its executable `fuzz-<name>`.
    static var name: String { get }

    /// Runs one input through the code under test.
    /// - Parameter input: the input's bytes, in the layout the target documents.
    /// - Throws: the clean error the code under test reported.
    func run(_ input: UnsafeRawBufferPointer) throws

    /// Inputs to start from: small generated ones, and ones made from the model files in `sharedModels`.
    /// - Parameter sharedModels: `../shared/models`, or nil to generate only.
    /// - Throws: `FuzzingError` when a shared file cannot be read or a seed cannot be made.
    func seeds(sharedModels: String?) throws -> [FuzzSeed]
}

extension FuzzTarget {
    /// Runs one input held in an array.
    /// - Throws: what `run(_:)` throws.
    public func run(_ input: [UInt8]) throws {
        try input.withUnsafeBytes { try run($0) }
    }
}

/// A starting input of a fuzz target, with a name that says where it came from.
public struct FuzzSeed: Sendable {
    /// A file name: letters, digits, `-`, `_` and `.`.
    public let name: String
    public let bytes: [UInt8]

    /// - Parameters:
    ///   - name: where the seed came from, as a file name.
    ///   - bytes: the input.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}
