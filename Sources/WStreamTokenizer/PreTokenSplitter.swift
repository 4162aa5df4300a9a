import WStreamFormat

/// The ByteLevel split step, hand-written for the two regular expressions in use (there is no regex engine
/// without Foundation):
/// - `.gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `.llama3`: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
///
/// Alternatives are tried in order at each position, as the regex engine does; `\s` is Unicode White_Space,
/// `\p{L}` the letter categories (Lu Ll Lt Lm Lo), `\p{N}` the number categories (Nd Nl No).
struct PreTokenSplitter: Sendable {
    let pattern: TokenizerSpec.SplitPattern

    enum CharacterClass { case letter, number, whitespace, other }

    static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
        let value = scalar.value
        if value < 0x80 {
            switch UInt8(value) {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
            case 0x09...0x0D, 0x20: return .whitespace
            default: return .other
            }
        }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The pieces of `scalars`, as consecutive ranges covering all of it.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(Self.characterClass)
        var pieces: [Range<Int>] = []
        var start = 0
        while start < scalars.count {
            let end = pattern == .gpt2
                ? gpt2Match(scalars, classes, at: start) : llama3Match(scalars, classes, at: start)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    private func gpt2Match(_ s: [Unicode.Scalar], _ c: [CharacterClass], at i: Int) -> Int {
        if let end = contraction(s, at: i, ignoringCase: false) { return end }
        let spaced = s[i] == " " && i + 1 < s.count ? i + 1 : i
        for wanted in [CharacterClass.letter, .number, .other] where c[spaced] == wanted {
            return run(c, from: spaced) { $0 == wanted }
        }
        return whitespaceMatch(c, at: i)
    }

    private func llama3Match(_ s: [Unicode.Scalar], _ c: [CharacterClass], at i: Int) -> Int {
        if let end = contraction(s, at: i, ignoringCase: true) { return end }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if c[i] == .letter { return run(c, from: i) { $0 == .letter } }
        if c[i] != .number, !isLineBreak(s[i]), i + 1 < s.count, c[i + 1] == .letter {
            return run(c, from: i + 1) { $0 == .letter }
        }
        // \p{N}{1,3}
        if c[i] == .number { return min(run(c, from: i) { $0 == .number }, i + 3) }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        let spaced = s[i] == " " && i + 1 < s.count ? i + 1 : i
        if c[spaced] == .other {
            var end = run(c, from: spaced) { $0 == .other }
            while end < s.count, isLineBreak(s[end]) { end += 1 }
            return end
        }
        // \s*[\r\n]+ : up to the last line break in the whitespace run
        let runEnd = run(c, from: i) { $0 == .whitespace }
        if let lastBreak = (i..<runEnd).last(where: { isLineBreak(s[$0]) }) { return lastBreak + 1 }
        return whitespaceMatch(c, at: i)
    }

    /// `\s+(?!\S)|\s+`: a whitespace run, leaving its last character to the word that follows it.
    private func whitespaceMatch(_ c: [CharacterClass], at i: Int) -> Int {
        guard c[i] == .whitespace else {
            // No alternative matches a lone character here; the regex engine skips it, and dropping input
            // would lose text, so it becomes a piece of its own.
            return i + 1
        }
        let end = run(c, from: i) { $0 == .whitespace }
        if end < c.count, end - i > 1 { return end - 1 }
        return end
    }

    private func run(_ c: [CharacterClass], from start: Int, while condition: (CharacterClass) -> Bool) -> Int {
        var end = start
        while end < c.count, condition(c[end]) { end += 1 }
        return end
    }

    private func isLineBreak(_ scalar: Unicode.Scalar) -> Bool { scalar == "\r" || scalar == "\n" }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, returning the end of the match.
    private func contraction(_ s: [Unicode.Scalar], at i: Int, ignoringCase: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        func letter(_ k: Int) -> Unicode.Scalar? {
            guard k < s.count else { return nil }
            let scalar = s[k]
            if ignoringCase, ("A"..."Z").contains(scalar) { return Unicode.Scalar(scalar.value + 32) }
            return scalar
        }
        switch letter(i + 1) {
        case "s", "t", "m", "d": return i + 2
        case "r", "v": return letter(i + 2) == "e" ? i + 3 : nil
        case "l": return letter(i + 2) == "l" ? i + 3 : nil
        default: return nil
        }
    }
}
