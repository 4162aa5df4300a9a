/// Row-block arithmetic of a tensor's decoded bytes.
///
/// Every storage type decodes to the same number of bytes per row, so a block of `r` rows takes
/// `r · decodedBytesPerRow` bytes and block `b` starts at `b · rowsPerBlock · decodedBytesPerRow`.
extension TensorEntry {
    /// Decoded bytes per row for `storage` with `cols` columns, or nil when the combination is invalid or overflows.
    ///
    /// f32: `4·cols`; f16: `2·cols`; q8/q4: the codes of a row padded to a multiple of `groupSize`
    /// (`paddedCols·bits/8`) plus an fp16 scale and an fp16 bias per group (`4·paddedCols/groupSize`);
    /// q6: 16 nibble bytes per 32 columns and 32 bytes of top bits per started 128 columns, with the same
    /// parameters; q8r/q6r/q4r: the same codes plus 2 bytes per group and a float32 row scale.
    /// A q4/q8 group size is a multiple of `groupSizeQuantum` up to `maximumGroupSize`: the kernels read groups in
    /// whole chunks of 32 columns.
    public static func decodedBytesPerRow(storage: StorageType, cols: Int, groupSize: Int) -> Int? {
        guard cols >= 1 else { return nil }
        switch storage {
        case .f32: return checkedProduct(cols, 4)
        case .f16: return checkedProduct(cols, 2)
        case .q8, .q4, .q8r, .q4r, .q6, .q6r:
            let bits = storage.codeBits!
            guard groupSize >= groupSizeQuantum, groupSize <= maximumGroupSize, groupSize % groupSizeQuantum == 0 else { return nil }
            let groups = cols / groupSize + (cols % groupSize == 0 ? 0 : 1)
            guard let padded = checkedProduct(groups, groupSize), let codeBits = checkedProduct(padded, bits),
                  codeBits % 8 == 0, let groupBytes = checkedProduct(groups, storage.isRowScaled ? 2 : 4) else { return nil }
            // 6-bit rows pad their last span's plane of top bits to 32 bytes.
            let chunks = padded / 32
            let codeBytes = bits == 6 ? 16 * chunks + 32 * ((chunks + 3) / 4) : codeBits / 8
            let (total, overflow) = codeBytes.addingReportingOverflow(groupBytes &+ (storage.isRowScaled ? 4 : 0))
            return overflow ? nil : total
        }
    }

    /// Quantized group sizes are multiples of this.
    public static let groupSizeQuantum = 32
    /// The largest quantized group size a file may use.
    public static let maximumGroupSize = 4096

    /// Decoded bytes per row of this tensor (0 when its shape and storage are inconsistent,
    /// which a validated file never has).
    public var decodedBytesPerRow: Int {
        Self.decodedBytesPerRow(storage: storage, cols: cols, groupSize: groupSize) ?? 0
    }

    /// Rows in block `block` (the last block may be shorter).
    public func rowCount(ofBlock block: Int) -> Int {
        min(rowsPerBlock, rows - block * rowsPerBlock)
    }

    /// Indices into `frames` of the frames holding block `block`.
    public func frameRange(ofBlock block: Int) -> Range<Int> {
        block * framesPerBlock ..< (block + 1) * framesPerBlock
    }

    /// Decoded bytes of block `block`.
    public func decodedByteCount(ofBlock block: Int) -> Int {
        rowCount(ofBlock: block) * decodedBytesPerRow
    }

    /// Byte offset of block `block` within the decoded tensor.
    public func decodedOffset(ofBlock block: Int) -> Int {
        block * rowsPerBlock * decodedBytesPerRow
    }
}

func checkedProduct(_ a: Int, _ b: Int) -> Int? {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : product
}
