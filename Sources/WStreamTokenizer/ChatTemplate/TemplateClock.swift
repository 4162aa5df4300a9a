#if canImport(Glibc)
import Glibc
#endif

/// Where `strftime_now()` in a chat template gets the date: the real clock, or a fixed date for
/// reproducible prompts (tests, `wstream template --now`).
public enum TemplateClock: Sendable, Equatable {
    /// The system clock, in local time, as transformers' `datetime.now()`.
    case system
    /// Always this local date and time.
    case fixed(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0)

    /// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`.
    /// - Returns: nil when `text` is not such a date.
    public init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" || $0 == " " }).map { Int($0) }
        guard [3, 5, 6].contains(parts.count), parts.allSatisfy({ $0 != nil }) else { return nil }
        let fields = parts.map { $0! } + Array(repeating: 0, count: 6 - parts.count)
        guard (1...12).contains(fields[1]), (1...31).contains(fields[2]), (0...23).contains(fields[3]),
            (0...59).contains(fields[4]), (0...60).contains(fields[5])
        else { return nil }
        self = .fixed(year: fields[0], month: fields[1], day: fields[2], hour: fields[3], minute: fields[4], second: fields[5])
    }

    /// Python's `datetime.strftime(format)` for the current time: C `strftime` in the C locale, with
    /// `%f` as microseconds and `%z`/`%Z` empty (the datetime has no time zone).
    func format(_ format: String) -> String {
        var broken = tm()
        switch self {
        case .system:
            var now = time(nil)
            localtime_r(&now, &broken)
        case let .fixed(year, month, day, hour, minute, second):
            broken.tm_year = Int32(year - 1900)
            broken.tm_mon = Int32(month - 1)
            broken.tm_mday = Int32(day)
            broken.tm_hour = Int32(hour)
            broken.tm_min = Int32(minute)
            broken.tm_sec = Int32(second)
            // timegm fills in the weekday and the day of the year without applying a time zone.
            var normalized = broken
            _ = timegm(&normalized)
            broken.tm_wday = normalized.tm_wday
            broken.tm_yday = normalized.tm_yday
        }
        broken.tm_isdst = -1
        return Self.strftime(Self.pythonDirectives(format), broken)
    }

    /// Rewrites the directives Python handles itself before calling C `strftime`.
    private static func pythonDirectives(_ format: String) -> String {
        var result = ""
        var scalars = format.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "%", let directive = scalars.next() else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch directive {
            case "f": result += "000000"
            case "z", "Z": break
            default:
                result.unicodeScalars.append(scalar)
                result.unicodeScalars.append(directive)
            }
        }
        return result
    }

    private static func strftime(_ format: String, _ broken: tm) -> String {
        guard !format.isEmpty else { return "" }
        var broken = broken
        var capacity = 256 + format.utf8.count * 16
        // strftime returns 0 both for an empty result and for a buffer too small; a few doublings settle it.
        for _ in 0..<4 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = Glibc.strftime(&buffer, capacity, format, &broken)
            if count > 0 { return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            capacity *= 4
        }
        return ""
    }
}
