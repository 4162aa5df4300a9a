/// One GGUF metadata value.
enum GGUFValue: Sendable, Equatable {
    case unsigned(UInt64)
    case signed(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as an integer when it is one (of any width) and fits.
    var int: Int? {
        switch self {
        case .unsigned(let value): return value <= UInt64(Int.max) ? Int(value) : nil
        case .signed(let value): return Int(exactly: value)
        default: return nil
        }
    }

    var double: Double? {
        switch self {
        case .float(let value): return value
        case .unsigned, .signed: return int.map(Double.init)
        default: return nil
        }
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var array: [GGUFValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
