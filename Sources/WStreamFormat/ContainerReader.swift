// SKELETON: signatures the rest of the package codes against; the Format work fills in the bodies.

/// A `.wst` file opened through `mmap`, validated before anything is used.
public final class ContainerReader: @unchecked Sendable {
    public let path: String
    public let metadata: ContainerMetadata

    /// Maps the file and validates header, metadata checksum and the bounds of every frame and region.
    /// - Throws: `FormatError` naming the file and the problem.
    public init(path: String) throws { fatalError("unimplemented") }

    public func tensor(named name: String) -> TensorEntry? { fatalError("unimplemented") }

    /// Index of the region called `name` (`embed`, `layer.3`, `head`).
    public func regionIndex(named name: String) -> Int? { fatalError("unimplemented") }

    /// Tensors stored in region `index`, in file order.
    public func tensors(inRegion index: Int) -> [TensorEntry] { fatalError("unimplemented") }

    /// Decodes all frames of `tensor` into `destination` (at least `tensor.decodedByteCount` bytes),
    /// verifying every frame's checksum first.
    public func decodeTensor(_ tensor: TensorEntry, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws { fatalError("unimplemented") }

    /// Decodes row block `block` of `tensor` into `destination`; returns the decoded byte count.
    @discardableResult
    public func decodeBlock(_ tensor: TensorEntry, block: Int, into destination: UnsafeMutableRawBufferPointer, using decoder: FrameDecoder) throws -> Int { fatalError("unimplemented") }

    /// Byte offset of row block `block` within the decoded tensor.
    public func decodedOffset(of tensor: TensorEntry, block: Int) -> Int { fatalError("unimplemented") }

    /// Checks the checksum of every frame (no decompression); reports progress as (frames done, total).
    /// - Throws: `FormatError.checksumMismatch` naming the first damaged tensor.
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws { fatalError("unimplemented") }

    /// `madvise(MADV_WILLNEED)` over region `index`: start reading it from disk ahead of use.
    public func adviseWillNeed(region index: Int) { fatalError("unimplemented") }

    /// `madvise(MADV_DONTNEED)` over region `index`: drop its mapped pages from this process's resident set.
    public func adviseDontNeed(region index: Int) { fatalError("unimplemented") }

    /// `madvise(MADV_DONTNEED)` over the pages covering a byte range of the file.
    public func adviseDontNeed(offset: UInt64, length: UInt64) { fatalError("unimplemented") }
}

/// A reusable zstd decompression context. Not thread-safe: use one per thread.
public final class FrameDecoder {
    public init() { fatalError("unimplemented") }
}
