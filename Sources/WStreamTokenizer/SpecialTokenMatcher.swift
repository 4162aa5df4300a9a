/// Finds special-token spellings (e.g. `<|im_start|>`) in UTF-8 text, preferring the longest at each position.
struct SpecialTokenMatcher: Sendable {
    /// A stretch of input: plain text (a byte range) or a special token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case special(Int32)
    }

    /// Candidates by first byte, longest first.
    private let candidates: [[(bytes: [UInt8], id: Int32)]]
    let isEmpty: Bool

    init(_ tokens: [(text: [UInt8], id: Int32)]) {
        var byFirst = [[(bytes: [UInt8], id: Int32)]](repeating: [], count: 256)
        for token in tokens where !token.text.isEmpty { byFirst[Int(token.text[0])].append((token.text, token.id)) }
        candidates = byFirst.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
        isEmpty = tokens.isEmpty
    }

    /// `text` cut into plain stretches and special tokens, in order.
    func segments(_ text: [UInt8]) -> [Segment] {
        var result: [Segment] = []
        var plainStart = 0
        var index = 0
        while index < text.count {
            if let (length, id) = match(text, at: index) {
                if plainStart < index { result.append(.text(plainStart..<index)) }
                result.append(.special(id))
                index += length
                plainStart = index
            } else {
                index += 1
            }
        }
        if plainStart < text.count { result.append(.text(plainStart..<text.count)) }
        return result
    }

    private func match(_ text: [UInt8], at index: Int) -> (Int, Int32)? {
        for candidate in candidates[Int(text[index])] where candidate.bytes.count <= text.count - index {
            if text[index..<(index + candidate.bytes.count)].elementsEqual(candidate.bytes) {
                return (candidate.bytes.count, candidate.id)
            }
        }
        return nil
    }
}
