#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat

/// Runs a slice of a sweep's flips in this process: for each, damages one bit of a private copy of the model, runs
/// the probe on it, restores the bit, and journals the outcome.
///
/// It runs in a child process of the sweep (`FlipSupervisor`), so that a crash ends only the child: the journal then
/// shows the flip that was begun and not ended, and the supervisor starts a new child after it. The copy is made
/// afresh from the undamaged file when the worker starts, so a crash cannot leave damage for the next worker.
struct FlipWorker {
    let model: String
    /// The private copy the flips damage.
    let copy: String
    let journal: String
    let plan: FlipPlan
    let probe: GreedyProbe
    let baseline: GreedyProbe.Result
    /// A flip at which the worker fails on purpose instead of running, so that tests can check that the supervisor
    /// records crashes and hangs.
    let rehearsal: Rehearsal?

    /// A failure the worker stages at one flip.
    struct Rehearsal: Sendable {
        enum Kind: String, Sendable {
            /// The process traps, as a failed Swift runtime check does.
            case crash
            /// The process stops making progress.
            case hang
        }

        let index: Int
        let kind: Kind

        /// Parses `INDEX:crash` or `INDEX:hang`.
        init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let index = Int(parts[0]), let kind = Kind(rawValue: String(parts[1])) else { return nil }
            self.index = index
            self.kind = kind
        }
    }

    /// Runs flips `range` of the plan.
    /// - Throws: `CommandFailure` when the copy or the journal cannot be written.
    func run(_ range: Range<Int>) async throws {
        try copyFile(model, to: copy)
        let areas = FileAreaMap(reader: try .init(path: copy))
        let file = open(copy, O_RDWR | O_CLOEXEC)
        guard file >= 0 else { throw CommandFailure(path: copy, operation: "open") }
        defer { close(file) }
        let log = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw CommandFailure(path: journal, operation: "open") }
        defer { close(log) }

        for index in range {
            let bit = plan.bits[index]
            try append(FlipRecord(index: index, outcome: nil), to: log)
            let original = try readByte(file, at: bit / 8)
            try writeByte(file, original ^ UInt8(1 << (bit % 8)), at: bit / 8)
            if let rehearsal, rehearsal.index == index { stage(rehearsal) }
            let result = await probe.run(copy)
            try writeByte(file, original, at: bit / 8)
            let (outcome, detail) = FlipOutcome.judge(result, area: areas.area(at: bit / 8), baseline: baseline, path: copy)
            try append(FlipRecord(index: index, outcome: outcome, detail: detail), to: log)
        }
    }

    private func stage(_ rehearsal: Rehearsal) -> Never {
        switch rehearsal.kind {
        case .crash: fatalError("rehearsed crash at flip \(rehearsal.index)")
        case .hang: while true { pause() }
        }
    }

    private func append(_ record: FlipRecord, to descriptor: Int32) throws {
        let bytes = Array(record.line.utf8)
        guard bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CommandFailure(path: journal, operation: "write")
        }
    }

    private func readByte(_ descriptor: Int32, at offset: Int) throws -> UInt8 {
        var byte: UInt8 = 0
        guard pread(descriptor, &byte, 1, off_t(offset)) == 1 else { throw CommandFailure(path: copy, operation: "read at \(offset)") }
        return byte
    }

    private func writeByte(_ descriptor: Int32, _ byte: UInt8, at offset: Int) throws {
        var value = byte
        guard pwrite(descriptor, &value, 1, off_t(offset)) == 1 else { throw CommandFailure(path: copy, operation: "write at \(offset)") }
    }

    /// Copies `source` to `destination` (created or replaced).
    private func copyFile(_ source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw CommandFailure(path: source, operation: "open") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw CommandFailure(path: destination, operation: "create") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw CommandFailure(path: source, operation: "read") }
            if count == 0 { return }
            guard buffer.withUnsafeBytes({ write(output, $0.baseAddress, count) }) == count else {
                throw CommandFailure(path: destination, operation: "write")
            }
        }
    }
}
