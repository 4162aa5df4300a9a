/// Undoes llama.cpp's Q/K row permutation so rows come out in Hugging Face's rotate-half order.
///
/// llama.cpp's converter stores each head's rows interleaved for adjacent-pair rotation:
/// `w.reshape(heads, 2, half, …).swapaxes(1, 2)`, i.e. stored row `2j + i` of a head is Hugging Face row `i·half + j`.
struct RoPERowOrder: Sendable, Equatable {
    /// Rows of one head (`headDim`).
    let rowsPerHead: Int

    /// - Throws: `ImportError.malformed` when the rows do not split into heads of even width.
    init(rows: Int, heads: Int, file: String, tensor: String) throws {
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else {
            throw ImportError.malformed(file: file, detail: "tensor '\(tensor)' has \(rows) rows, which do not split into \(heads) heads of even width")
        }
        rowsPerHead = rows / heads
    }

    /// The stored row that holds Hugging Face row `row`.
    func storedRow(_ row: Int) -> Int {
        let half = rowsPerHead / 2
        let head = row / rowsPerHead
        let within = row % rowsPerHead
        return head * rowsPerHead + 2 * (within % half) + within / half
    }
}
