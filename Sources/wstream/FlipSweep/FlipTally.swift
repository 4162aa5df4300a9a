#if canImport(Glibc)
import Glibc
#endif

/// A sweep's outcomes counted per area of the file, as a table for people and a tab-separated report of every flip.
struct FlipTally {
    let records: [FlipRecord]
    let plan: FlipPlan
    let areas: FileAreaMap

    /// Flips whose outcome is a finding (silent, misnamed, crashed, hung).
    var findings: Int { records.filter { $0.outcome?.isFinding == true }.count }

    /// Rows per kind of area (bytes, whether a checksum covers it, flips per outcome), then the frames whose flips
    /// were harmless (bytes the runs never read), then every finding.
    var table: String {
        let outcomes = FlipOutcome.allCases
        var counts = [FileAreaMap.Kind: [FlipOutcome: Int]]()
        for record in records {
            guard let outcome = record.outcome else { continue }
            counts[area(of: record).kind, default: [:]][outcome, default: 0] += 1
        }
        let bytes = areas.bytesByKind
        var rows = [["area", "bytes", "checksum", "flips"] + outcomes.map(\.rawValue)]
        for kind in FileAreaMap.Kind.allCases {
            let row = counts[kind] ?? [:]
            rows.append([kind.rawValue, "\(bytes[kind] ?? 0)", kind.isChecked ? "yes" : "none", "\(row.values.reduce(0, +))"]
                        + outcomes.map { "\(row[$0] ?? 0)" })
        }
        let totals = outcomes.map { outcome in records.filter { $0.outcome == outcome }.count }
        rows.append(["total", "\(areas.fileSize)", "", "\(records.count)"] + totals.map { "\($0)" })
        var lines = aligned(rows)

        var harmlessFrames = [String: Int]()
        for record in records where record.outcome == .harmless {
            if case .frame(let tensor, _) = area(of: record) { harmlessFrames[tensor, default: 0] += 1 }
        }
        if !harmlessFrames.isEmpty {
            let named = harmlessFrames.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }
            lines.append("harmless flips in frames (bytes these runs never read): " + named.joined(separator: ", "))
        }
        let found = records.filter { $0.outcome?.isFinding == true }
        for record in found.prefix(20) {
            lines.append("FINDING flip \(record.index) at byte \(plan.bits[record.index] / 8) bit \(plan.bits[record.index] % 8) (\(describe(area(of: record)))): \(record.outcome!.rawValue): \(record.detail)")
        }
        if found.count > 20 { lines.append("… and \(found.count - 20) more findings") }
        return lines.joined(separator: "\n")
    }

    /// Writes `index, byte, bit, area, outcome, detail` for every flip, tab-separated, with a header line.
    /// - Throws: `CommandFailure` when the file cannot be written.
    func writeReport(to path: String) throws {
        var text = "flip\tbyte\tbit\tarea\toutcome\tdetail\n"
        for record in records {
            let bit = plan.bits[record.index]
            text += "\(record.index)\t\(bit / 8)\t\(bit % 8)\t\(describe(area(of: record)))\t\(record.outcome?.rawValue ?? "")\t\(record.detail)\n"
        }
        guard let file = fopen(path, "w") else { throw CommandFailure(path: path, operation: "create") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard fclose(file) == 0, written == bytes.count else { throw CommandFailure(path: path, operation: "write") }
    }

    private func area(of record: FlipRecord) -> FileAreaMap.Area { areas.area(at: plan.bits[record.index] / 8) }

    private func describe(_ area: FileAreaMap.Area) -> String {
        if case .frame(let tensor, let index) = area { return "frame \(index) of \(tensor)" }
        return area.kind.rawValue
    }

    /// Columns padded to their widest cell, the first left-aligned and the rest right-aligned.
    private func aligned(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
    }
}
