/// Checks a decoded `ContainerMetadata` against the file it came from, so that nothing after
/// opening can read outside the mapping or decode a block into the wrong number of bytes.
enum MetadataValidator {
    /// - Parameters:
    ///   - metadata: the decoded metadata.
    ///   - alignment: the header's alignment.
    ///   - dataEnd: where the data area ends (the metadata offset); every region must end at or before it.
    ///   - file: the path, for error messages.
    /// - Throws: `FormatError.invalidRegion` or `.invalidTensor` naming the first problem.
    static func validate(_ metadata: ContainerMetadata, alignment: UInt64, dataEnd: UInt64, file: String) throws(FormatError) {
        try validateRegions(metadata.regions, alignment: alignment, dataEnd: dataEnd, file: file)
        var names = Set<String>()
        for tensor in metadata.tensors {
            guard names.insert(tensor.name).inserted else {
                throw .invalidTensor(file: file, tensor: tensor.name, reason: "the name appears more than once")
            }
            try validate(tensor, regions: metadata.regions, file: file)
        }
    }

    private static func validateRegions(_ regions: [RegionEntry], alignment: UInt64, dataEnd: UInt64, file: String) throws(FormatError) {
        var names = Set<String>()
        var previousEnd = UInt64(ContainerHeader.size)
        for region in regions {
            func fail(_ reason: String) -> FormatError { .invalidRegion(file: file, region: region.name, reason: reason) }
            guard names.insert(region.name).inserted else { throw fail("the name appears more than once") }
            guard region.offset % alignment == 0 else { throw fail("offset \(region.offset) is not a multiple of the alignment \(alignment)") }
            let (end, overflow) = region.offset.addingReportingOverflow(region.length)
            guard !overflow, end <= dataEnd else {
                throw fail("offset \(region.offset) length \(region.length) runs past the end of the data at \(dataEnd)")
            }
            guard region.offset >= previousEnd else {
                throw fail("offset \(region.offset) overlaps the header or the previous region (ending at \(previousEnd))")
            }
            previousEnd = end
        }
    }

    private static func validate(_ tensor: TensorEntry, regions: [RegionEntry], file: String) throws(FormatError) {
        func fail(_ reason: String) -> FormatError { .invalidTensor(file: file, tensor: tensor.name, reason: reason) }
        try validateShape(tensor, file: file)
        guard regions.indices.contains(tensor.region) else {
            throw fail("region index \(tensor.region) is outside 0..<\(regions.count)")
        }
        guard tensor.framesPerBlock >= 1 else { throw fail("framesPerBlock \(tensor.framesPerBlock) must be at least 1") }
        guard checkedProduct(tensor.blockCount, tensor.framesPerBlock) == tensor.frames.count else {
            throw fail("\(tensor.blockCount) blocks of \(tensor.framesPerBlock) frames each do not match the \(tensor.frames.count) frames listed")
        }
        let region = regions[tensor.region]
        let regionEnd = region.offset + region.length
        let bytesPerRow = tensor.decodedBytesPerRow
        for block in 0..<tensor.blockCount {
            var blockBytes: UInt64 = 0
            for index in tensor.frameRange(ofBlock: block) {
                let frame = tensor.frames[index]
                let (end, overflow) = frame.offset.addingReportingOverflow(frame.storedLength)
                guard !overflow, frame.offset >= region.offset, end <= regionEnd else {
                    throw fail("frame \(index) at offset \(frame.offset) length \(frame.storedLength) lies outside its region \(region.name) (\(region.offset)..<\(regionEnd))")
                }
                guard frame.shuffle >= 1 else { throw fail("frame \(index) has shuffle \(frame.shuffle); it must be at least 1") }
                guard frame.encoding != .raw || frame.storedLength == frame.decodedLength else {
                    throw fail("raw frame \(index) stores \(frame.storedLength) bytes but records \(frame.decodedLength) decoded bytes")
                }
                let (sum, sumOverflow) = blockBytes.addingReportingOverflow(frame.decodedLength)
                guard !sumOverflow else { throw fail("the decoded lengths of block \(block) overflow") }
                blockBytes = sum
            }
            let expected = UInt64(tensor.rowCount(ofBlock: block) * bytesPerRow)
            guard blockBytes == expected else {
                throw fail("block \(block) decodes to \(blockBytes) bytes; \(tensor.rowCount(ofBlock: block)) rows of \(tensor.storage.rawValue) [\(tensor.cols) columns] take \(expected)")
            }
        }
    }

    /// Checks what the block arithmetic relies on: shape, storage and block sizes, all without overflow.
    static func validateShape(_ tensor: TensorEntry, file: String) throws(FormatError) {
        func fail(_ reason: String) -> FormatError { .invalidTensor(file: file, tensor: tensor.name, reason: reason) }
        guard tensor.shape.count == 1 || tensor.shape.count == 2, tensor.shape.allSatisfy({ $0 >= 1 }) else {
            throw fail("shape \(tensor.shape) is not [rows, cols] or [count] with positive sizes")
        }
        guard let bytesPerRow = TensorEntry.decodedBytesPerRow(storage: tensor.storage, cols: tensor.cols, groupSize: tensor.groupSize),
              checkedProduct(bytesPerRow, tensor.rows) != nil else {
            throw fail("storage \(tensor.storage.rawValue) with group size \(tensor.groupSize) does not fit \(tensor.cols) columns")
        }
        // At most the tensor's rows: then a block's size is at most the tensor's, which fits (kernels multiply by it).
        guard tensor.rowsPerBlock >= 1, tensor.rowsPerBlock <= tensor.rows else {
            throw fail("rowsPerBlock \(tensor.rowsPerBlock) is not between 1 and the tensor's \(tensor.rows) rows")
        }
    }
}
