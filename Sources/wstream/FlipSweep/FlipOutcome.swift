/// What one flipped bit did to a run of the model.
enum FlipOutcome: String, Sendable, CaseIterable {
    /// The run failed with an error naming the file and the damaged section or tensor.
    case detected
    /// The run gave the undamaged file's ids (the flip lies in bytes this run never uses, or is unchecked padding).
    case harmless
    /// The run gave other ids and no error: damage went unnoticed. A bug.
    case silent
    /// The run failed, but its error does not name the damaged part (or the file). A bug.
    case misnamed
    /// The process died (a signal) while running the damaged file. A bug.
    case crashed
    /// The run did not finish within the sweep's time limit. A bug.
    case hung

    /// Whether the outcome breaks the promise that nothing crashes and no output changes silently.
    var isFinding: Bool { self != .detected && self != .harmless }

    /// Judges a run of a file damaged in `area`, against the undamaged file's run.
    /// - Parameters:
    ///   - path: the damaged file, which an error must name.
    /// - Returns: the outcome, and what decided it (the error's first line, or the ids that differ).
    static func judge(_ result: GreedyProbe.Result, area: FileAreaMap.Area, baseline: GreedyProbe.Result, path: String) -> (FlipOutcome, String) {
        switch result {
        case .ids(let prompt, let generated):
            if result == baseline { return (.harmless, "") }
            return (.silent, "prompt ids \(prompt), generated ids \(generated)")
        case .failed(let message):
            let line = String(message.prefix { $0 != "\n" })
            return (message.contains(path) && names(area, in: message) ? .detected : .misnamed, line)
        }
    }

    /// Whether `message` names the damaged part of the file: the header, the metadata, or the frame's tensor.
    private static func names(_ area: FileAreaMap.Area, in message: String) -> Bool {
        switch area {
        case .header: message.contains("header is damaged") || message.contains("not a wstream container")
        case .metadata: message.contains("metadata is damaged")
        case .frame(let tensor, _): message.contains("tensor \(tensor) ")
        case .padding: false
        }
    }
}

/// One line of a worker's journal: a flip begun, or a flip's outcome.
///
/// The worker writes `<index>\tbegin` before it damages the file and `<index>\t<outcome>\t<detail>` after the run,
/// each with one `write`, so that a crash leaves exactly the flip it happened on begun and not ended.
struct FlipRecord: Sendable, Equatable {
    let index: Int
    /// nil for a flip begun.
    let outcome: FlipOutcome?
    let detail: String

    init(index: Int, outcome: FlipOutcome?, detail: String = "") {
        self.index = index
        self.outcome = outcome
        self.detail = detail
    }

    /// The journal line, newline included (tabs and newlines in the detail become spaces).
    var line: String {
        let cleaned = String(detail.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
        return outcome.map { "\(index)\t\($0.rawValue)\t\(cleaned)\n" } ?? "\(index)\tbegin\n"
    }

    /// Parses one journal line; nil for a line cut short by a crash.
    init?(line: Substring) {
        let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count >= 2, let index = Int(fields[0]) else { return nil }
        if fields[1] == "begin" {
            self.init(index: index, outcome: nil)
        } else if let outcome = FlipOutcome(rawValue: String(fields[1])) {
            self.init(index: index, outcome: outcome, detail: fields.count > 2 ? String(fields[2]) : "")
        } else {
            return nil
        }
    }
}
