/// The rows one forward pass computes: for each of one or more sequences, a run of its next tokens.
///
/// A prompt chunk is one segment of many rows; a decode step of several sequences is one segment of one row
/// each. Linear layers treat all rows alike (one pass over the weights serves every sequence); attention and
/// convolution read each row's own sequence.
struct Batch {
    struct Segment {
        let sequence: SequenceState
        /// The segment's rows in the activations.
        let rows: Range<Int>
        /// The position of its first row in its sequence.
        let firstPosition: Int
    }

    let segments: [Segment]
    /// Rows at the front that are generated tokens (one each, of sequences that are decoding); the rest are
    /// prompt tokens. See `Compute`.
    let generatedRows: Int

    /// Rows in all segments.
    var rowCount: Int { segments.last?.rows.upperBound ?? 0 }

    /// One segment per sequence, `counts[i]` rows for `sequences[i]`, continuing where each sequence stands; the
    /// first `generatedRows` rows are generated tokens.
    init(_ sequences: [SequenceState], counts: [Int], generatedRows: Int = 0) {
        self.generatedRows = generatedRows
        var start = 0
        segments = zip(sequences, counts).map { sequence, count in
            defer { start += count }
            return Segment(sequence: sequence, rows: start..<start + count, firstPosition: sequence.position)
        }
    }
}
