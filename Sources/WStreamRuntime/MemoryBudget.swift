/// A ceiling on the process's peak resident set size (VmHWM), parsed from text such as `700M`.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public let bytes: Int

    public init(bytes: Int) {
        self.bytes = bytes
    }

    /// Parses `123`, `64K`, `700M`, `1.5G` (K, M, G, T are powers of 1024; an optional trailing `B`/`iB` is accepted).
    /// - Throws: `RuntimeError.invalidBudget` for anything else.
    public init(parsing text: String) throws {
        var digits = Substring(text.trimmingSpaces().uppercased())
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        var multiplier: Double = 1
        if let unit = digits.last, let power = "KMGT".firstIndex(of: unit) {
            multiplier = pow1024("KMGT".distance(from: "KMGT".startIndex, to: power) + 1)
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value.isFinite, value > 0 else {
            throw RuntimeError.invalidBudget(text)
        }
        bytes = Int(value * multiplier)
    }

    public var description: String { ByteCount.format(bytes) }
}

private func pow1024(_ exponent: Int) -> Double {
    (0..<exponent).reduce(1.0) { acc, _ in acc * 1024 }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// Human-readable byte counts in powers of 1024, as budgets are written.
public enum ByteCount {
    /// `734003200` → `700.0 MiB`.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format1: value) + " " + units[unit]
    }
}

extension String {
    /// One decimal place without Foundation's `String(format:)`.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
