/// Rows × inputs of a kernel's register tile, as types so that each shape compiles to its own loop with
/// its accumulators in registers.
protocol TileShape {
    static var rows: Int { get }
    static var inputs: Int { get }
}

enum TwoRowsFourInputs: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 4 }
}

enum OneRowFourInputs: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 4 }
}

enum TwoRowsOneInput: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 1 }
}

enum OneRowOneInput: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 1 }
}
