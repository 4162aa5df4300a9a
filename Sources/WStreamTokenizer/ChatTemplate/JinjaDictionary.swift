/// A Python `dict`: insertion-ordered, keyed by hashable values with Python's equality (so `1`, `1.0`
/// and `True` are the same key, and strings compare by code point).
struct JinjaDictionary {
    private(set) var keys: [JinjaValue] = []
    private(set) var values: [JinjaValue] = []
    private var positions: [JinjaKey: Int] = [:]
    private(set) var depth = 1

    init() {}

    /// A dictionary with string keys in the given order (later duplicates replace earlier values).
    init(_ entries: [(String, JinjaValue)], maxNesting: Int) throws {
        for (key, value) in entries { try set(.string(key), value, maxNesting: maxNesting) }
    }

    var count: Int { keys.count }

    /// `dict[key] = value`, keeping the position of an existing key.
    /// - Throws: a render error for an unhashable key, a limit error when nesting too deep.
    mutating func set(_ key: JinjaValue, _ value: JinjaValue, maxNesting: Int) throws {
        let hashKey = try JinjaKey(key)
        let newDepth = max(depth, 1 + max(key.depth, value.depth))
        guard newDepth <= maxNesting else { throw JinjaFailure.limit("values nest deeper than \(maxNesting) levels") }
        depth = newDepth
        if let position = positions[hashKey] {
            values[position] = value
        } else {
            positions[hashKey] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    /// The value for `key`, nil when absent.
    /// - Throws: a render error when `key` is unhashable (a list or dictionary).
    func value(for key: JinjaValue) throws -> JinjaValue? {
        try positions[JinjaKey(key)].map { values[$0] }
    }

    func value(forString key: String) -> JinjaValue? {
        positions[.string(JinjaText(key))].map { values[$0] }
    }
}

/// A dictionary key with Python's hashing and equality.
enum JinjaKey: Hashable {
    case none
    /// Integers, booleans (`True == 1`) and floats with an integral value (`1.0 == 1`).
    case integer(Int)
    case float(Double)
    case string(JinjaText)
    case tuple([JinjaKey])

    /// - Throws: `unhashable type: 'list'` for values Python cannot hash.
    init(_ value: JinjaValue) throws {
        switch value {
        case .none: self = .none
        case .boolean(let flag): self = .integer(flag ? 1 : 0)
        case .integer(let number): self = .integer(number)
        case .float(let number):
            if number.rounded() == number, let exact = Int(exactly: number) { self = .integer(exact) } else { self = .float(number) }
        case .string(let text), .markup(let text): self = .string(JinjaText(text))
        case .tuple(let sequence): self = .tuple(try sequence.items.map { try JinjaKey($0) })
        default: throw JinjaFailure.render("unhashable type: '\(value.typeName)'")
        }
    }
}

/// A string compared and hashed by its Unicode scalars, as Python compares `str`, rather than by
/// Swift's canonical equivalence (which would make precomposed and decomposed "é" equal).
struct JinjaText: Hashable {
    let value: String

    init(_ value: String) { self.value = value }

    static func == (left: JinjaText, right: JinjaText) -> Bool { left.value.utf8.elementsEqual(right.value.utf8) }

    func hash(into hasher: inout Hasher) {
        for byte in value.utf8 { hasher.combine(byte) }
    }
}
