/// GGUF block-quantized tensors hand out their codes and group parameters (see `GGMLAffineBlocks`).
extension MappedTensor: AffineGroupSource {
    var affineGroups: AffineGroupScheme? {
        GGMLAffineBlocks.scheme(of: storage).map {
            AffineGroupScheme(codeBits: $0.codeBits, groupSize: $0.groupSize, label: storage.rawValue, isNative: false)
        }
    }

    func readAffineRows(
        _ rows: Range<Int>, codes: UnsafeMutableBufferPointer<UInt8>, scales: UnsafeMutableBufferPointer<Float>,
        biases: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard let scheme = GGMLAffineBlocks.scheme(of: storage) else {
            throw ImportError.unsupported(file: file.path, detail: "tensor '\(name)' is \(storage.rawValue), which has no affine groups")
        }
        guard !rows.isEmpty else { return }
        let cols = columnCount
        let groupsPerRow = cols / scheme.groupSize
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount, codes.count >= rows.count * cols,
            scales.count >= rows.count * groupsPerRow, biases.count >= rows.count * groupsPerRow
        else {
            throw ImportError.invalidRowRange(tensor: name, rows: rows, rowCount: rowCount, destinationCount: codes.count)
        }
        let rowBytes = storage.rowBytes(cols: cols)!
        let blocksPerRow = cols / storage.blockElements
        let groupsPerBlock = storage.blockElements / scheme.groupSize
        var lowest = Int.max
        var highest = 0
        for (index, row) in rows.enumerated() {
            let stored = rowOrder?.storedRow(row) ?? row
            let source = file.base + offset + stored * rowBytes
            for block in 0..<blocksPerRow {
                let group = index * groupsPerRow + block * groupsPerBlock
                GGMLAffineBlocks.decode(
                    storage, block: source + block * storage.blockBytes,
                    codes: codes.baseAddress! + index * cols + block * storage.blockElements,
                    scales: scales.baseAddress! + group, biases: biases.baseAddress! + group)
            }
            lowest = min(lowest, stored)
            highest = max(highest, stored)
        }
        file.releasePages(offset: offset + lowest * rowBytes, count: (highest - lowest + 1) * rowBytes)
    }
}
