#if canImport(Glibc)
import Glibc
#endif

/// Writing to the terminal without Foundation.
enum Terminal {
    /// Standard error is a terminal (progress bars are drawn only then).
    static var stderrIsInteractive: Bool { isatty(2) == 1 }

    static func error(_ text: String) {
        writeAll(2, text + "\n")
    }

    /// Writes `text` to standard output at once (generated text streams as it comes).
    static func write(_ text: String) {
        writeAll(1, text)
    }

    /// `write(2)` until every byte is out: unbuffered, so pieces appear as they are generated and stdout and
    /// stderr interleave in the order they were written.
    static func writeAll(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// `12.3`: one decimal place.
    static func decimal(_ value: Double, places: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = String(abs(scaled) % Int(scale))
        return places == 0 ? "\(whole)" : "\(whole).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
    }

    /// `[1,2,3]`: token ids as a compact JSON array.
    static func jsonArray(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }

    /// `1.5 MB`, in powers of 1000 for throughput figures.
    static func megabytes(_ bytes: Int) -> String { decimal(Double(bytes) / 1e6) + " MB" }
}

/// A one-line progress bar on standard error, redrawn in place; silent when stderr is not a terminal.
struct ProgressBar {
    let label: String
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let enabled: Bool

    init(label: String) {
        self.label = label
        start = clock.now
        enabled = Terminal.stderrIsInteractive
    }

    /// Redraws with `done` of `total` bytes and a note (e.g. the current tensor).
    func update(done: Int, total: Int, note: String) {
        guard enabled, total > 0 else { return }
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let seconds = max(elapsed, 1e-6)
        let rate = Double(done) / 1e6 / seconds
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\r\(label) \(bar) \(Int(fraction * 100))% \(Terminal.decimal(rate)) MB/s  \(note)"
        Terminal.writeAll(2, String(line.prefix(120)) + "\u{1B}[K")
    }

    func finish() {
        if enabled { Terminal.writeAll(2, "\r\u{1B}[K") }
    }

    var elapsed: Double {
        let parts = (clock.now - start).components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
