import Glibc

/// Times `MatrixKernels` on a model-sized set of random matrices and the memory bandwidth the same
/// matrices are read at (the CLI's `bench --kernels`).
///
/// The set is the linear layers of a real model shape (by default all of LFM2-1.2B's, 16 layers and the
/// 6-bit head, about 700 MB), visited in turn as a forward pass visits them, so every product reads its
/// weights from memory and not from the last-level cache. One pass over the set is one token for decode
/// and `n` tokens for a prefill of `n` inputs, which is how the figures convert to tokens per second.
public enum KernelBenchmark {
    /// One weight matrix of the set.
    public struct Matrix: Sendable, Equatable {
        public var rows: Int
        public var cols: Int
        public var bits: Int
        public var groupSize: Int
        /// How groups store their parameters; `pack`'s default unless said otherwise.
        public var parameters: GroupParameters

        public init(rows: Int, cols: Int, bits: Int, groupSize: Int = 32, parameters: GroupParameters = .rowScaled) {
            self.rows = rows
            self.cols = cols
            self.bits = bits
            self.groupSize = groupSize
            self.parameters = parameters
        }

        var layout: QuantizedLayout { QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols, parameters: parameters) }
    }

    /// What to run.
    public struct Configuration: Sendable {
        /// The matrices one token reads, in the order it reads them.
        public var matrices: [Matrix]
        /// Thread counts to run each kernel with.
        public var threadCounts = [1, 2]
        /// Inputs per product: 1 is decode, more is a prefill chunk.
        public var inputCounts = [1, 32, 128]
        /// Precisions to compare (the float-activation kernels and the int8 ones).
        public var precisions: [ActivationPrecision] = [.float32, .int8]
        /// Also time the int8 kernels on the set with its 4-bit matrices interleaved (`RowInterleaving`), as the engine
        /// keeps resident ones, where the build's kernels read them.
        public var interleaved = RowInterleaving.appliesToNativeKernels
        /// Decode passes are repeated for at least this long; the fastest counts.
        public var minimumSeconds = 0.5
        /// The bandwidth probe reads at least this many bytes per measurement.
        public var probeBytes = 1 << 30

        public init(matrices: [Matrix]) { self.matrices = matrices }

        /// The linear layers of the LFM2-1.2B shape at the pack defaults (4 bits, groups of 32, 6-bit
        /// tied head): 10 convolution and 6 attention blocks of hidden size 2048 with a feed-forward of
        /// 8192, and a 65536-token head. Fewer `layers` leave out the head.
        public static func lfm2(layers: Int = 16) -> Configuration {
            let hidden = 2048, ffn = 8192, kv = 512
            let attention: Set = [2, 5, 8, 10, 12, 14]
            var matrices: [Matrix] = []
            for layer in 0..<max(1, min(layers, 16)) {
                if attention.contains(layer) {
                    matrices += [Matrix(rows: hidden, cols: hidden, bits: 4), Matrix(rows: kv, cols: hidden, bits: 4),
                                 Matrix(rows: kv, cols: hidden, bits: 4), Matrix(rows: hidden, cols: hidden, bits: 4)]
                } else {
                    matrices += [Matrix(rows: 3 * hidden, cols: hidden, bits: 4), Matrix(rows: hidden, cols: hidden, bits: 4)]
                }
                matrices += [Matrix(rows: ffn, cols: hidden, bits: 4), Matrix(rows: ffn, cols: hidden, bits: 4),
                             Matrix(rows: hidden, cols: ffn, bits: 4)]
            }
            if layers >= 16 { matrices.append(Matrix(rows: 65536, cols: hidden, bits: 6)) }
            return Configuration(matrices: matrices)
        }

        /// The linear layers of the Llama-3.2-1B shape at the pack defaults: 16 attention blocks of hidden size 2048
        /// (32 query heads, 8 key-value heads of 64) with a feed-forward of 8192, and the 6-bit tied head of 128256
        /// tokens, a third of the set's bytes. Fewer `layers` leave out the head.
        public static func llama32_1B(layers: Int = 16) -> Configuration {
            let hidden = 2048, ffn = 8192, kv = 512
            var matrices: [Matrix] = []
            for _ in 0..<max(1, min(layers, 16)) {
                matrices += [Matrix(rows: hidden, cols: hidden, bits: 4), Matrix(rows: kv, cols: hidden, bits: 4),
                             Matrix(rows: kv, cols: hidden, bits: 4), Matrix(rows: hidden, cols: hidden, bits: 4),
                             Matrix(rows: ffn, cols: hidden, bits: 4), Matrix(rows: ffn, cols: hidden, bits: 4),
                             Matrix(rows: hidden, cols: ffn, bits: 4)]
            }
            if layers >= 16 { matrices.append(Matrix(rows: 128_256, cols: hidden, bits: 6)) }
            return Configuration(matrices: matrices)
        }
    }

    /// Reading the set with wide loads.
    public struct Bandwidth: Sendable {
        public var threads: Int
        public var gigabytesPerSecond: Double
    }

    /// One kernel at one thread count and input count.
    public struct Figure: Sendable {
        public var precision: ActivationPrecision
        /// Whether the 4-bit matrices were interleaved (`RowInterleaving`).
        public var interleaved: Bool
        public var inputs: Int
        public var threads: Int
        /// Seconds for one pass over the set.
        public var seconds: Double
        /// Weight bytes read per second, in GB/s (10⁹ bytes).
        public var gigabytesPerSecond: Double
        /// `gigabytesPerSecond` over the bandwidth measured with as many threads.
        public var shareOfBandwidth: Double
        /// Tokens per second if a token read exactly the set: `inputs / seconds`.
        public var tokensPerSecond: Double
    }

    public struct Report: Sendable {
        /// The integer kernels that ran.
        public var family: KernelFamily
        public var matrixCount: Int
        /// Bytes of the set.
        public var bytes: Int
        public var bandwidth: [Bandwidth]
        public var figures: [Figure]
    }

    /// Allocates and fills the set, probes the bandwidth and times every kernel.
    /// - Parameter configuration: the set and what to run on it.
    /// - Returns: the bandwidth at each thread count and a figure per precision, input count and thread count.
    public static func run(_ configuration: Configuration) -> Report {
        let set = MatrixSet(configuration.matrices, interleaved: false)
        let tiled = configuration.interleaved ? MatrixSet(configuration.matrices, interleaved: true) : nil
        defer { set.deallocate(); tiled?.deallocate() }
        let maxInputs = configuration.inputCounts.max() ?? 1
        let maxCols = configuration.matrices.map(\.cols).max() ?? 1, maxRows = configuration.matrices.map(\.rows).max() ?? 1
        let x = UnsafeMutablePointer<Float>.allocate(capacity: maxInputs * maxCols)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: maxInputs * maxRows)
        defer { x.deallocate(); y.deallocate() }
        var generator = SplitMix64(seed: 7)
        for i in 0..<(maxInputs * maxCols) { x[i] = generator.nextFloat() - 0.5 }

        var bandwidth: [Bandwidth] = []
        var figures: [Figure] = []
        for threads in configuration.threadCounts {
            let pool = ComputePool(threadCount: threads)
            let probe = BandwidthProbe.gigabytesPerSecond(set.regions, minimumBytes: configuration.probeBytes, pool: pool)
            bandwidth.append(Bandwidth(threads: threads, gigabytesPerSecond: probe))
            for inputs in configuration.inputCounts {
                let runs = configuration.precisions.map { (set, $0) } + (tiled.map { [($0, ActivationPrecision.int8)] } ?? [])
                for (matrices, precision) in runs {
                    let pass = {
                        for w in matrices.matrices {
                            MatrixKernels.matmul(w, x, count: inputs, y, pool: pool, precision: precision)
                        }
                    }
                    pass()
                    let seconds = fastest(minimumSeconds: inputs == 1 ? configuration.minimumSeconds : 0, pass)
                    let rate = Double(set.bytes) / seconds / 1e9
                    figures.append(Figure(precision: precision, interleaved: matrices.interleaved, inputs: inputs, threads: threads,
                                          seconds: seconds, gigabytesPerSecond: rate, shareOfBandwidth: rate / probe,
                                          tokensPerSecond: Double(inputs) / seconds))
                }
            }
        }
        return Report(family: .native, matrixCount: set.matrices.count, bytes: set.bytes, bandwidth: bandwidth, figures: figures)
    }

    /// The memory's read bandwidth with `threads` threads, on a buffer of `bytes` (it should be several
    /// times the last-level cache), measured five times, each reading 1 GiB or more (the same bytes each time).
    /// - Returns: GB/s (10⁹ bytes per second) of each measurement; the fastest is the memory's peak.
    public static func memoryBandwidthMeasurements(threads: Int, bytes: Int = BandwidthProbe.bufferBytes) -> [Double] {
        let buffer = LargePageMemory.allocate(byteCount: bytes)
        defer { LargePageMemory.deallocate(UnsafeRawBufferPointer(buffer)) }
        // Written once so that every page is really there (untouched pages would all read the zero page).
        for offset in stride(from: 0, to: bytes, by: 8) { buffer.storeBytes(of: UInt64(truncatingIfNeeded: offset), toByteOffset: offset, as: UInt64.self) }
        let pool = ComputePool(threadCount: threads)
        return BandwidthProbe.measurements([UnsafeRawBufferPointer(buffer)], minimumBytes: 1 << 30, pool: pool)
    }

    /// The fastest of the runs of `body` made within `minimumSeconds` (at least one).
    static func fastest(minimumSeconds: Double, _ body: () -> Void) -> Double {
        let start = monotonicSeconds()
        var best = Double.infinity
        repeat {
            let begin = monotonicSeconds()
            body()
            best = min(best, monotonicSeconds() - begin)
        } while monotonicSeconds() - start < minimumSeconds
        return best
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}

/// The benchmark's matrices, one after another in one allocation (`LargePageMemory`, as the engine's pool holds
/// resident weights), each starting on a page and filled with random codes and scales and biases of a realistic
/// size (no NaN or infinity to slow the arithmetic).
private struct MatrixSet {
    let matrices: [WeightMatrix]
    let interleaved: Bool
    let regions: [UnsafeRawBufferPointer]
    private let memory: UnsafeRawBufferPointer
    var bytes: Int { regions.reduce(0) { $0 + $1.count } }

    /// - Parameter interleaved: interleave the matrices `RowInterleaving` applies to (same random contents).
    init(_ shapes: [KernelBenchmark.Matrix], interleaved: Bool) {
        self.interleaved = interleaved
        let pageBytes = 4096
        var offsets: [Int] = []
        var end = 0
        for shape in shapes {
            offsets.append(end)
            end = (end + shape.layout.byteCount + pageBytes - 1) / pageBytes * pageBytes
        }
        let memory = LargePageMemory.allocate(byteCount: max(end, pageBytes))
        var generator = SplitMix64(seed: 42)
        var matrices: [WeightMatrix] = []
        var regions: [UnsafeRawBufferPointer] = []
        for (shape, offset) in zip(shapes, offsets) {
            let layout = shape.layout
            // Blocks of about 1 MiB in whole tiles of 16 rows, as pack's are for these shapes.
            let rowsPerBlock = max(1, min(shape.rows, max(16, (1 << 20) / layout.blockByteCount(rows: 1) / 16 * 16)))
            let p = memory.baseAddress! + offset
            Self.fill(p, layout: layout, rowsPerBlock: rowsPerBlock, &generator)
            let matrix = WeightMatrix(storage: WeightMatrix.Storage(codeBits: shape.bits)!, rows: shape.rows, cols: shape.cols,
                                      groupSize: shape.groupSize, rowsPerBlock: rowsPerBlock, parameters: shape.parameters,
                                      base: UnsafeRawPointer(p))
            let tiles = interleaved && RowInterleaving.applies(to: matrix, kernels: .native)
            matrices.append(tiles ? RowInterleaving.interleave(matrix) : matrix)
            regions.append(UnsafeRawBufferPointer(start: p, count: layout.byteCount))
        }
        self.matrices = matrices
        self.regions = regions
        self.memory = UnsafeRawBufferPointer(memory)
    }

    func deallocate() { LargePageMemory.deallocate(memory) }

    private static func fill(_ p: UnsafeMutableRawPointer, layout: QuantizedLayout, rowsPerBlock: Int, _ generator: inout SplitMix64) {
        var firstRow = 0
        var offset = 0
        while firstRow < layout.rows {
            let blockRows = min(rowsPerBlock, layout.rows - firstRow)
            let codeBytes = blockRows * layout.codeBytesPerRow
            for i in stride(from: 0, to: codeBytes, by: 8) {
                p.storeBytes(of: generator.next(), toByteOffset: offset + i, as: UInt64.self)
            }
            switch layout.parameters {
            case .float16:
                for i in 0..<(2 * blockRows * layout.groupsPerRow) {
                    p.storeBytes(of: Float16(generator.nextFloat() * 0.01), toByteOffset: offset + codeBytes + 2 * i, as: Float16.self)
                }
            case .rowScaled:
                let groupBytes = 2 * blockRows * layout.groupsPerRow
                for i in 0..<groupBytes { p.storeBytes(of: UInt8(truncatingIfNeeded: generator.next()), toByteOffset: offset + codeBytes + i, as: UInt8.self) }
                for r in 0..<blockRows {
                    p.storeBytes(of: generator.nextFloat() * 1e-4, toByteOffset: offset + codeBytes + groupBytes + 4 * r, as: Float.self)
                }
            }
            offset += layout.blockByteCount(rows: blockRows)
            firstRow += blockRows
        }
    }
}
