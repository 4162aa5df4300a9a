/// Holds back generated text that could still turn into a stop string, and finds the stop.
struct StopStringFilter {
    let stops: [String]
    private var pending = ""

    init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds `text`; returns what is safe to print and whether a stop string was reached.
    mutating func push(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        pending += text
        // The stop that appears first ends the text, whichever comes first in the list.
        if let earliest = stops.compactMap({ pending.range(of: $0)?.lowerBound }).min() {
            let emit = String(pending[..<earliest])
            pending = ""
            return (emit, true)
        }
        // Keep the longest tail that is a prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                keep = max(keep, length)
                break
            }
        }
        let emit = String(pending.dropLast(keep))
        pending = String(pending.suffix(keep))
        return (emit, false)
    }

    /// What is still held back, once generation ended without a stop.
    mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}

extension String {
    fileprivate func range(of needle: String) -> Range<String.Index>? {
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            start = index(after: start)
        }
        return nil
    }
}
