/// An SVG line chart of decode tokens/s against memory: one line per series, points labelled, axes scaled to the
/// data. Plain SVG 1.1 text, so it shows in a browser or on GitHub without anything else.
struct BenchChart {
    struct Series {
        let name: String
        /// Hex colour, e.g. `#1f77b4`.
        let color: String
        /// (memory in MiB, tokens/s), in any order.
        let points: [(x: Double, y: Double)]
    }

    let title: String
    let xLabel: String
    let yLabel: String
    let series: [Series]

    private static let width = 720.0, height = 420.0
    private static let left = 70.0, right = 180.0, top = 40.0, bottom = 60.0

    /// The chart as an SVG document.
    var svg: String {
        let points = series.flatMap(\.points)
        let maxX = Self.niceCeiling(points.map(\.x).max() ?? 1)
        let maxY = Self.niceCeiling(points.map(\.y).max() ?? 1)
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        func x(_ value: Double) -> Double { Self.left + value / maxX * plotWidth }
        func y(_ value: Double) -> Double { Self.top + plotHeight - value / maxY * plotHeight }
        var lines = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(Self.width))" height="\##(Int(Self.height))" font-family="sans-serif" font-size="12">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
            ##"<text x="\##(Self.width / 2 - Self.right / 2)" y="22" text-anchor="middle" font-size="15">\##(Self.escaped(title))</text>"##,
        ]
        for step in 0...5 {
            let value = maxX * Double(step) / 5, position = x(value)
            lines.append(##"<line x1="\##(position)" y1="\##(Self.top)" x2="\##(position)" y2="\##(Self.top + plotHeight)" stroke="#eee"/>"##)
            lines.append(##"<text x="\##(position)" y="\##(Self.top + plotHeight + 18)" text-anchor="middle">\##(Self.format(value))</text>"##)
        }
        for step in 0...5 {
            let value = maxY * Double(step) / 5, position = y(value)
            lines.append(##"<line x1="\##(Self.left)" y1="\##(position)" x2="\##(Self.left + plotWidth)" y2="\##(position)" stroke="#eee"/>"##)
            lines.append(##"<text x="\##(Self.left - 8)" y="\##(position + 4)" text-anchor="end">\##(Self.format(value))</text>"##)
        }
        lines.append(##"<rect x="\##(Self.left)" y="\##(Self.top)" width="\##(plotWidth)" height="\##(plotHeight)" fill="none" stroke="#444"/>"##)
        lines.append(##"<text x="\##(Self.left + plotWidth / 2)" y="\##(Self.height - 18)" text-anchor="middle">\##(Self.escaped(xLabel))</text>"##)
        lines.append(##"<text x="18" y="\##(Self.top + plotHeight / 2)" text-anchor="middle" transform="rotate(-90 18 \##(Self.top + plotHeight / 2))">\##(Self.escaped(yLabel))</text>"##)
        for (index, line) in series.enumerated() {
            let sorted = line.points.sorted { $0.x < $1.x }
            let path = sorted.map { "\(x($0.x)),\(y($0.y))" }.joined(separator: " ")
            if sorted.count > 1 {
                lines.append(##"<polyline points="\##(path)" fill="none" stroke="\##(line.color)" stroke-width="2"/>"##)
            }
            for point in sorted {
                lines.append(##"<circle cx="\##(x(point.x))" cy="\##(y(point.y))" r="4" fill="\##(line.color)"/>"##)
                lines.append(##"<text x="\##(x(point.x) + 6)" y="\##(y(point.y) - 6)" fill="\##(line.color)">\##(Self.format(point.y))</text>"##)
            }
            let legendY = Self.top + 10 + Double(index) * 20
            lines.append(##"<rect x="\##(Self.width - Self.right + 15)" y="\##(legendY - 9)" width="12" height="12" fill="\##(line.color)"/>"##)
            lines.append(##"<text x="\##(Self.width - Self.right + 33)" y="\##(legendY + 2)">\##(Self.escaped(line.name))</text>"##)
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value`, so axes end on round numbers.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        while magnitude > value { magnitude /= 10 }
        return [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= value } ?? 10 * magnitude
    }

    private static func format(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? "\(Int(value.rounded()))" : Terminal.decimal(value)
    }

    private static func escaped(_ text: String) -> String {
        text.reduce(into: "") { escaped, character in
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
    }
}
