/// The last `kernel − 1` inputs of one short-convolution block for one sequence, oldest first: `[kernel − 1][hidden]`.
final class ConvolutionState {
    let inputs: UnsafeMutablePointer<Float>
    private let count: Int

    /// Bytes the state of a convolution of `kernel` taps over `hidden` channels takes.
    static func byteCount(kernel: Int, hidden: Int) -> Int { max(kernel - 1, 0) * hidden * 4 }

    init(kernel: Int, hidden: Int) {
        count = max((kernel - 1) * hidden, 1)
        inputs = .allocate(capacity: count)
        inputs.initialize(repeating: 0, count: count)
    }

    deinit { inputs.deallocate() }

    /// Forgets the past: a new sequence starts from zeros.
    func reset() { inputs.update(repeating: 0, count: count) }
}
