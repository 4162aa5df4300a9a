/// Python's `str` methods, code point by code point (Swift's `String` compares by canonical equivalence,
/// Python by code point, so these work on `Unicode.Scalar` arrays).
enum PythonString {
    typealias Scalars = [Unicode.Scalar]

    static func scalars(_ text: String) -> Scalars { Array(text.unicodeScalars) }

    static func string<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `strip`, `lstrip`, `rstrip`: `characters` nil means whitespace.
    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let all = scalars(text)
        let set = characters.map { Set($0.unicodeScalars) }
        func stripped(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? PythonText.isWhitespace(scalar) }
        var start = 0
        var end = all.count
        if leading { while start < end, stripped(all[start]) { start += 1 } }
        if trailing { while end > start, stripped(all[end - 1]) { end -= 1 } }
        return string(all[start..<end])
    }

    /// Python's `(start, end)` arguments clipped to `0...count`, negative values counting from the end.
    static func bounds(_ start: Int?, _ end: Int?, count: Int) -> (Int, Int) {
        func clip(_ value: Int) -> Int { value < 0 ? max(0, value + count) : min(value, count) }
        return (start.map(clip) ?? 0, end.map(clip) ?? count)
    }

    /// The first index of `needle` in `haystack[from..<to]`.
    static func find(_ needle: Scalars, in haystack: Scalars, from: Int = 0, to: Int? = nil) -> Int? {
        let limit = to ?? haystack.count
        guard needle.count <= limit - from else { return nil }
        if needle.isEmpty { return from }
        var index = from
        while index + needle.count <= limit {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// The last index of `needle` in `haystack[from..<to]`.
    static func findLast(_ needle: Scalars, in haystack: Scalars, from: Int = 0, to: Int? = nil) -> Int? {
        let limit = to ?? haystack.count
        guard needle.count <= limit - from else { return nil }
        var index = limit - needle.count
        while index >= from {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }

    /// Non-overlapping occurrences, as `str.count`.
    static func count(_ needle: Scalars, in haystack: Scalars, from: Int = 0, to: Int? = nil) -> Int {
        let limit = to ?? haystack.count
        guard needle.count <= limit - from else { return 0 }
        if needle.isEmpty { return limit - from + 1 }
        var total = 0
        var index = from
        while let found = find(needle, in: haystack, from: index, to: limit) {
            total += 1
            index = found + needle.count
        }
        return total
    }

    /// `str.split(separator, maxsplit)`; nil separator splits on runs of whitespace and drops empty parts.
    /// - Throws: `empty separator` as Python does.
    static func split(_ text: String, separator: String?, maxSplit: Int) throws -> [String] {
        let all = scalars(text)
        guard let separator else {
            var parts: [String] = []
            var index = 0
            while index < all.count {
                while index < all.count, PythonText.isWhitespace(all[index]) { index += 1 }
                guard index < all.count else { break }
                if maxSplit >= 0, parts.count == maxSplit {
                    parts.append(string(all[index...]))
                    break
                }
                let start = index
                while index < all.count, !PythonText.isWhitespace(all[index]) { index += 1 }
                parts.append(string(all[start..<index]))
            }
            return parts
        }
        let needle = scalars(separator)
        guard !needle.isEmpty else { throw JinjaFailure.render("empty separator") }
        var parts: [String] = []
        var start = 0
        while maxSplit < 0 || parts.count < maxSplit, let found = find(needle, in: all, from: start) {
            parts.append(string(all[start..<found]))
            start = found + needle.count
        }
        parts.append(string(all[start...]))
        return parts
    }

    /// `str.rsplit(separator, maxsplit)`.
    static func rsplit(_ text: String, separator: String?, maxSplit: Int) throws -> [String] {
        guard maxSplit >= 0 else { return try split(text, separator: separator, maxSplit: -1) }
        let all = scalars(text)
        guard let separator else {
            var parts: [String] = []
            var index = all.count
            while index > 0 {
                while index > 0, PythonText.isWhitespace(all[index - 1]) { index -= 1 }
                guard index > 0 else { break }
                if parts.count == maxSplit {
                    parts.append(string(all[..<index]))
                    break
                }
                let end = index
                while index > 0, !PythonText.isWhitespace(all[index - 1]) { index -= 1 }
                parts.append(string(all[index..<end]))
            }
            return parts.reversed()
        }
        let needle = scalars(separator)
        guard !needle.isEmpty else { throw JinjaFailure.render("empty separator") }
        var parts: [String] = []
        var end = all.count
        while parts.count < maxSplit, let found = findLast(needle, in: all, from: 0, to: end) {
            parts.append(string(all[(found + needle.count)..<end]))
            end = found
        }
        parts.append(string(all[..<end]))
        return parts.reversed()
    }

    /// `str.splitlines(keepends)`.
    /// - Throws: a limit error for more than `maxParts` lines.
    static func splitLines(_ text: String, keepEnds: Bool = false, maxParts: Int) throws -> [String] {
        let all = scalars(text)
        var lines: [String] = []
        var start = 0
        var index = 0
        while index < all.count {
            guard PythonText.isLineBoundary(all[index]) else {
                index += 1
                continue
            }
            var end = index + 1
            if all[index] == "\r", end < all.count, all[end] == "\n" { end += 1 }
            lines.append(string(all[start..<(keepEnds ? end : index)]))
            try PythonOperators.checkCount(lines.count, maxCount: maxParts)
            start = end
            index = end
        }
        if start < all.count { lines.append(string(all[start...])) }
        return lines
    }

    /// `str.replace(old, new, count)`; an empty `old` inserts `new` around every character.
    /// - Throws: a limit error when the result would exceed `maxBytes` (counted in characters while building).
    static func replace(_ text: String, _ old: String, _ new: String, count: Int = -1, maxBytes: Int) throws -> String {
        let all = scalars(text)
        let needle = scalars(old)
        let replacement = scalars(new)
        var result: Scalars = []
        var replaced = 0
        if needle.isEmpty {
            for scalar in all {
                if count < 0 || replaced < count {
                    result += replacement
                    replaced += 1
                    try PythonOperators.checkLength(result.count, maxBytes: maxBytes)
                }
                result.append(scalar)
            }
            if count < 0 || replaced < count { result += replacement }
            return string(result)
        }
        var start = 0
        while count < 0 || replaced < count, let found = find(needle, in: all, from: start) {
            result += all[start..<found]
            result += replacement
            try PythonOperators.checkLength(result.count, maxBytes: maxBytes)
            start = found + needle.count
            replaced += 1
        }
        result += all[start...]
        return string(result)
    }

    static func isCased(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isCased }

    /// `str.title()`: each run of cased characters starts upper (title) case, the rest lower.
    static func title(_ text: String) -> String {
        var result = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            result += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = isCased(scalar)
        }
        return result
    }

    /// `str.capitalize()`: the first character title case, the rest lower case.
    static func capitalize(_ text: String) -> String {
        var result = ""
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            result += offset == 0 ? scalar.properties.titlecaseMapping : scalar.properties.lowercaseMapping
        }
        return result
    }

    static func upper(_ text: String) -> String {
        text.unicodeScalars.reduce(into: "") { $0 += $1.properties.uppercaseMapping }
    }

    static func lower(_ text: String) -> String {
        text.unicodeScalars.reduce(into: "") { $0 += $1.properties.lowercaseMapping }
    }

    static func swapCase(_ text: String) -> String {
        text.unicodeScalars.reduce(into: "") {
            $0 += $1.properties.isUppercase ? $1.properties.lowercaseMapping
                : $1.properties.isLowercase ? $1.properties.uppercaseMapping : String($1)
        }
    }

    /// Jinja's `|title` filter: words start after `-`, whitespace or an opening bracket, each word's first
    /// character upper case and the rest lower case.
    static func jinjaTitle(_ text: String) -> String {
        func isBreak(_ scalar: Unicode.Scalar) -> Bool {
            PythonText.isWhitespace(scalar) || scalar == "-" || scalar == "(" || scalar == "{" || scalar == "[" || scalar == "<"
        }
        var result = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            if isBreak(scalar) {
                result.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                result += atWordStart ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
                atWordStart = false
            }
        }
        return result
    }

    /// `str.islower()` / `str.isupper()`: at least one cased character and none of the other case.
    static func isLower(_ text: String) -> Bool {
        var sawCased = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isUppercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
            if scalar.properties.isLowercase { sawCased = true }
        }
        return sawCased
    }

    static func isUpper(_ text: String) -> Bool {
        var sawCased = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isLowercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
            if scalar.properties.isUppercase { sawCased = true }
        }
        return sawCased
    }

    /// `center`, `ljust`, `rjust` with a one-character fill.
    static func pad(_ text: String, width: Int, fill: Unicode.Scalar, alignment: Character) -> String {
        let length = text.unicodeScalars.count
        guard width > length else { return text }
        let total = width - length
        let left: Int
        switch alignment {
        case "<": left = 0
        case ">": left = total
        default: left = total / 2 + (total & width & 1)
        }
        let fillText = String(fill)
        return String(repeating: fillText, count: left) + text + String(repeating: fillText, count: total - left)
    }
}
