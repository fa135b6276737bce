public import Engine

/// The job's contact sheet: a grid of the rendered images, each scaled to fit a square cell
/// (aspect kept, Lanczos) with its label under it, on a white background. Returns the image;
/// the caller writes the PNG.
public struct ContactSheet: Sendable {
    /// Longest side of each image in its cell, in pixels.
    public var cellSize: Int
    /// Columns of the grid; nil for ⌈√n⌉.
    public var columns: Int?
    /// Space around the grid and between cells, in pixels.
    public var margin: Int
    /// Font scale of the labels.
    public var labelScale: Int
    /// Label lines under each image at most; a longer label is cut with "..".
    public var maximumLabelLines: Int
    /// The whole sheet's limit in pixels: a sweep of thousands of points shrinks its cells to
    /// stay under it rather than allocating gigabytes.
    public var maximumPixels: Int
    public var background: RGBColor
    public var textColor: RGBColor

    public static let defaultCellSize = 256
    public static let minimumCellSize = 16
    public static let maximumCellSize = 4096

    public init(cellSize: Int = ContactSheet.defaultCellSize, columns: Int? = nil, margin: Int = 12,
                labelScale: Int = 1, maximumLabelLines: Int = 3, maximumPixels: Int = 50_000_000,
                background: RGBColor = .white, textColor: RGBColor = .black) {
        self.cellSize = cellSize
        self.columns = columns
        self.margin = margin
        self.labelScale = labelScale
        self.maximumLabelLines = maximumLabelLines
        self.maximumPixels = maximumPixels
        self.background = background
        self.textColor = textColor
    }

    /// The label of a sweep point: "gamma=0.3, beta=1000".
    public static func label(for parameters: [PlannedTask.Parameter]) -> String {
        parameters.map { "\($0.name)=\(SweepPlanner.format($0.value))" }.joined(separator: ", ")
    }

    /// ⌈√n⌉ columns: the squarest grid with no more rows than columns.
    public static func defaultColumns(count: Int) -> Int {
        guard count > 1 else { return 1 }
        var columns = Int(Double(count).squareRoot())
        while columns * columns < count { columns += 1 }
        return columns
    }

    /// Where things go on a sheet, computed before any pixel is drawn (and tested on its own).
    public struct Layout: Sendable, Equatable {
        public var columns: Int
        public var rows: Int
        public var cellSize: Int
        public var labelHeight: Int
        public var width: Int
        public var height: Int

        /// Top-left corner of the image area of cell `index` (reading order).
        public func cellOrigin(_ index: Int, margin: Int) -> (x: Int, y: Int) {
            (margin + (index % columns) * (cellSize + margin),
             margin + (index / columns) * (cellSize + labelHeight + margin))
        }
    }

    public func layout(count: Int, labelLines: Int) throws -> Layout {
        guard count > 0 else {
            throw EngineError(.invalidArgument, "a contact sheet needs at least one image; the job has none")
        }
        guard (Self.minimumCellSize...Self.maximumCellSize).contains(cellSize) else {
            throw EngineError(.invalidArgument, "contact sheet cells of \(cellSize) px: give \(Self.minimumCellSize)…\(Self.maximumCellSize)")
        }
        guard (0...1024).contains(margin), (1...8).contains(labelScale) else {
            throw EngineError(.invalidArgument, "contact sheet margin \(margin) and label scale \(labelScale): give a margin of 0…1024 px and a scale of 1…8")
        }
        guard (0...64).contains(labelLines) else {
            throw EngineError(.invalidArgument, "contact sheet labels of \(labelLines) lines: give at most 64 (maximumLabelLines)")
        }
        if let columns, columns < 1 {
            throw EngineError(.invalidArgument, "a contact sheet needs at least one column; \(columns) given")
        }
        let columns = min(columns ?? Self.defaultColumns(count: count), count)
        let rows = (count + columns - 1) / columns
        let labelHeight = max(0, labelLines) * BitmapFont.lineHeight * labelScale + (labelLines > 0 ? 4 : 0)
        var cell = cellSize
        while true {
            let width = margin + columns * (cell + margin)
            let height = margin + rows * (cell + labelHeight + margin)
            if width.multipliedReportingOverflow(by: height).partialValue <= maximumPixels,
               width < 1 << 24, height < 1 << 24 {
                return Layout(columns: columns, rows: rows, cellSize: cell, labelHeight: labelHeight, width: width, height: height)
            }
            guard cell > Self.minimumCellSize else {
                throw EngineError(.invalidArgument, "a contact sheet of \(count) images in \(columns) columns does not fit in \(maximumPixels) pixels even with \(cell) px cells; raise the pixel limit or give more columns")
            }
            cell = max(Self.minimumCellSize, cell * 3 / 4)
        }
    }

    /// The sheet for `entries`, in reading order.
    public func render(_ entries: [(label: String, image: RGBImage)]) throws -> RGBImage {
        // Labels wrap at the cell size asked for. When the pixel limit shrinks the cells, the
        // layout is redone reserving the most label lines there can be, and labels re-wrap
        // at the final cell size, so the sheet stays within the limit.
        var wrapped = entries.map { wrap($0.label, width: cellSize) }
        var grid = try layout(count: entries.count, labelLines: wrapped.map(\.count).max() ?? 0)
        if grid.cellSize != cellSize {
            grid = try layout(count: entries.count, labelLines: max(1, maximumLabelLines))
            wrapped = entries.map { wrap($0.label, width: grid.cellSize) }
        }
        var sheet = RGBImage(width: grid.width, height: grid.height, fill: 0)
        sheet.fillRect(x: 0, y: 0, width: grid.width, height: grid.height, background)

        for (index, entry) in entries.enumerated() {
            let origin = grid.cellOrigin(index, margin: margin)
            let fitted = Resampler.size(fittingLongestSide: grid.cellSize, width: entry.image.width, height: entry.image.height)
            let scaled = fitted.width == entry.image.width && fitted.height == entry.image.height
                ? entry.image
                : Resampler.resize(entry.image, width: fitted.width, height: fitted.height, filter: .lanczos3)
            sheet.paste(scaled, x: origin.x + (grid.cellSize - scaled.width) / 2,
                        y: origin.y + (grid.cellSize - scaled.height) / 2)
            for (line, text) in wrapped[index].enumerated() {
                let textWidth = BitmapFont.textWidth(text, scale: labelScale)
                BitmapFont.drawText(text, into: &sheet, x: origin.x + max(0, (grid.cellSize - textWidth) / 2),
                                    y: origin.y + grid.cellSize + 4 + line * BitmapFont.lineHeight * labelScale,
                                    scale: labelScale, color: textColor)
            }
        }
        return sheet
    }

    /// `label` broken into lines that fit `width` pixels: at spaces where possible, inside a
    /// word where it alone is too long; at most `maximumLabelLines`, the last cut with "..".
    func wrap(_ label: String, width: Int) -> [String] {
        let perLine = max(1, width / (BitmapFont.advance * min(max(labelScale, 1), 8)))
        var lines: [String] = []
        var current = ""
        for word in label.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if candidate.count <= perLine {
                current = candidate
                continue
            }
            if !current.isEmpty { lines.append(current) }
            var rest = Substring(word)
            while rest.count > perLine {
                lines.append(String(rest.prefix(perLine)))
                rest = rest.dropFirst(perLine)
            }
            current = String(rest)
        }
        if !current.isEmpty { lines.append(current) }
        let limit = max(1, maximumLabelLines)
        guard lines.count > limit else { return lines }
        var kept = Array(lines.prefix(limit))
        let last = kept[limit - 1]
        kept[limit - 1] = String(last.prefix(max(0, perLine - 2))) + ".."
        return kept
    }
}
