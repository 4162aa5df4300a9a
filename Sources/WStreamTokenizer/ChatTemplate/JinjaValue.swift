/// A value while a template renders, modelled on the Python object Jinja would hold, so that printing,
/// comparing and converting behave as in transformers.
///
/// Lists, tuples and dictionaries are values: Hugging Face's sandbox forbids changing them in place.
/// The reference types are the objects Python shares: namespaces, iterators, macros, loops.
enum JinjaValue {
    case undefined(JinjaUndefined)
    case none
    case boolean(Bool)
    case integer(Int)
    case float(Double)
    case string(String)
    /// `markupsafe.Markup` (from `|safe`, `|escape`): `+` with plain text escapes the plain text.
    case markup(String)
    case list(JinjaSequence)
    case tuple(JinjaSequence)
    case dictionary(JinjaDictionary)
    case namespace(JinjaNamespace)
    /// `range(…)`, which prints as `range(0, 3)` and iterates without building a list.
    case range(JinjaRange)
    /// `dict.keys()`, `.values()`, `.items()`.
    case view(JinjaDictionaryView)
    /// A single-use iterator such as the generators `|map` and `|select` return.
    case iterator(JinjaIterator)
    case callable(JinjaCallable)
    case loop(JinjaLoop)

    static func undefined(_ hint: String) -> JinjaValue { .undefined(JinjaUndefined(hint: hint)) }

    static var emptyString: JinjaValue { .string("") }

    /// How many levels of values this one holds (0 for a scalar), which bounds recursion when it is
    /// printed, compared or released.
    var depth: Int {
        switch self {
        case .list(let sequence), .tuple(let sequence): sequence.depth
        case .dictionary(let dictionary): dictionary.depth
        case .view(let view): view.dictionary.depth + 1
        case .iterator(let iterator): iterator.depth
        case .callable(let callable): callable.depth
        default: 0
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The text of a string or markup.
    var text: String? {
        switch self {
        case .string(let text), .markup(let text): text
        default: nil
        }
    }

    /// Python's `type(value).__name__`, for error messages.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .boolean: "bool"
        case .integer: "int"
        case .float: "float"
        case .string: "str"
        case .markup: "Markup"
        case .list: "list"
        case .tuple: "tuple"
        case .dictionary: "dict"
        case .namespace: "Namespace"
        case .range: "range"
        case .view(let view): view.typeName
        case .iterator(let iterator): iterator.typeName
        case .callable(let callable): callable.typeName
        case .loop: "LoopContext"
        }
    }

    /// Python's truth value (`bool(value)`).
    var isTrue: Bool {
        switch self {
        case .undefined, .none: false
        case .boolean(let value): value
        case .integer(let value): value != 0
        case .float(let value): value != 0
        case .string(let text), .markup(let text): !text.isEmpty
        case .list(let sequence), .tuple(let sequence): !sequence.items.isEmpty
        case .dictionary(let dictionary): dictionary.count > 0
        case .range(let range): range.count > 0
        case .view(let view): view.dictionary.count > 0
        case .namespace, .iterator, .callable, .loop: true
        }
    }
}

/// Jinja's default `Undefined`: prints as nothing, is false, iterates as empty, and fails with `hint`
/// when used any other way.
struct JinjaUndefined {
    /// What Jinja would say, e.g. `'x' is undefined` or `'dict object' has no attribute 'y'`.
    let hint: String
    /// The sandbox refused the attribute (`list.append`): using it is a security error.
    var isUnsafe = false
}

/// The elements of a list or tuple and how deeply they nest.
struct JinjaSequence {
    let items: [JinjaValue]
    let depth: Int

    /// - Throws: a limit error when the result would nest deeper than `maxNesting`.
    init(_ items: [JinjaValue], maxNesting: Int) throws {
        self.items = items
        depth = 1 + (items.lazy.map(\.depth).max() ?? 0)
        guard depth <= maxNesting else { throw JinjaFailure.limit("values nest deeper than \(maxNesting) levels") }
    }

    /// Elements taken from an existing sequence at the same level (a slice, a sort, a reversal).
    init(sameLevelAs items: [JinjaValue], depth: Int) {
        self.items = items
        self.depth = depth
    }
}

/// `range(start, stop, step)`: Python's arithmetic, never materialised beyond `TemplateLimits.maxRange` items.
struct JinjaRange {
    let start: Int
    let stop: Int
    let step: Int

    /// Python's `len(range)`, computed without overflow for any bounds (clamped to `Int.max`).
    var count: Int {
        guard step > 0 ? start < stop : start > stop else { return 0 }
        let span = step > 0 ? UInt(bitPattern: stop &- start) : UInt(bitPattern: start &- stop)
        return Int(clamping: (span - 1) / step.magnitude + 1)
    }

    /// The element at `offset` (which may be `count`, one past the end, as a slice's stop); nil on overflow.
    func element(_ offset: Int) -> Int? {
        let (scaled, overflow) = offset.multipliedReportingOverflow(by: step)
        let (sum, sumOverflow) = start.addingReportingOverflow(scaled)
        return overflow || sumOverflow ? nil : sum
    }

    /// Every element; only called on ranges within `TemplateLimits.maxRange`, whose elements never overflow.
    var elements: [JinjaValue] { (0..<count).map { .integer(start &+ $0 &* step) } }
}

/// A live view of a dictionary's keys, values or items.
struct JinjaDictionaryView {
    enum Kind { case keys, values, items }

    let kind: Kind
    let dictionary: JinjaDictionary

    var typeName: String {
        switch kind {
        case .keys: "dict_keys"
        case .values: "dict_values"
        case .items: "dict_items"
        }
    }

    /// Items are `(key, value)` tuples.
    var elements: [JinjaValue] {
        switch kind {
        case .keys: dictionary.keys
        case .values: dictionary.values
        case .items:
            zip(dictionary.keys, dictionary.values).map {
                .tuple(JinjaSequence(sameLevelAs: [$0, $1], depth: max($0.depth, $1.depth) + 1))
            }
        }
    }
}
