import WStreamFormat

extension ContainerReader {
    /// All decoded bytes of `tensor`, read block by block as the model reads them.
    public func decodedBytes(of tensor: TensorEntry, using decoder: FrameDecoder = FrameDecoder()) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: tensor.decodedByteCount)
        try bytes.withUnsafeMutableBytes { buffer in
            for block in 0..<tensor.blockCount {
                let start = tensor.decodedOffset(ofBlock: block)
                try readBlock(tensor, block: block, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), using: decoder)
            }
        }
        return bytes
    }
}
