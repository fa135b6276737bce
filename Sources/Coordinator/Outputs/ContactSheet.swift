public import Engine

/// The job's contact sheet: a grid of the rendered images, each scaled to fit a square cell
/// (aspect kept, Lanczos), in reading order, on white. It carries no text: each image's
/// parameters are in the job's `index.html`, which lays the same images out with their labels
/// in real fonts. Returns the image; the caller writes the PNG.
public struct ContactSheet: Sendable {
    /// Longest side of each image in its cell, in pixels.
    public var cellSize: Int
    /// Columns of the grid; nil for ⌈√n⌉.
    public var columns: Int?
    /// Space around the grid and between cells, in pixels.
    public var margin: Int
    /// The whole sheet's limit in pixels: a sweep of thousands of points shrinks its cells to
    /// stay under it rather than allocating gigabytes.
    public var maximumPixels: Int

    public static let defaultCellSize = 256
    public static let minimumCellSize = 16
    public static let maximumCellSize = 4096

    public init(cellSize: Int = ContactSheet.defaultCellSize, columns: Int? = nil, margin: Int = 12,
                maximumPixels: Int = 50_000_000) {
        self.cellSize = cellSize
        self.columns = columns
        self.margin = margin
        self.maximumPixels = maximumPixels
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
        public var width: Int
        public var height: Int

        /// Top-left corner of cell `index` (reading order).
        public func cellOrigin(_ index: Int, margin: Int) -> (x: Int, y: Int) {
            (margin + (index % columns) * (cellSize + margin), margin + (index / columns) * (cellSize + margin))
        }
    }

    public func layout(count: Int) throws -> Layout {
        guard count > 0 else {
            throw EngineError(.invalidArgument, "a contact sheet needs at least one image; the job has none")
        }
        guard (Self.minimumCellSize...Self.maximumCellSize).contains(cellSize) else {
            throw EngineError(.invalidArgument, "contact sheet cells of \(cellSize) px: give \(Self.minimumCellSize)…\(Self.maximumCellSize)")
        }
        guard (0...1024).contains(margin) else {
            throw EngineError(.invalidArgument, "contact sheet margin \(margin): give 0…1024 px")
        }
        if let columns, columns < 1 {
            throw EngineError(.invalidArgument, "a contact sheet needs at least one column; \(columns) given")
        }
        let columns = min(columns ?? Self.defaultColumns(count: count), count)
        let rows = (count + columns - 1) / columns
        var cell = cellSize
        while true {
            let width = margin + columns * (cell + margin)
            let height = margin + rows * (cell + margin)
            if width.multipliedReportingOverflow(by: height).partialValue <= maximumPixels,
               width < 1 << 24, height < 1 << 24 {
                return Layout(columns: columns, rows: rows, cellSize: cell, width: width, height: height)
            }
            guard cell > Self.minimumCellSize else {
                throw EngineError(.invalidArgument, "a contact sheet of \(count) images in \(columns) columns does not fit in \(maximumPixels) pixels even with \(cell) px cells; raise the pixel limit or give more columns")
            }
            cell = max(Self.minimumCellSize, cell * 3 / 4)
        }
    }

    /// The sheet of `images`, in reading order.
    public func render(_ images: [RGBImage]) throws -> RGBImage {
        let grid = try layout(count: images.count)
        var sheet = RGBImage(width: grid.width, height: grid.height, fill: 255)
        for (index, image) in images.enumerated() {
            let origin = grid.cellOrigin(index, margin: margin)
            let fitted = Resampler.size(fittingLongestSide: grid.cellSize, width: image.width, height: image.height)
            let scaled = fitted.width == image.width && fitted.height == image.height
                ? image
                : Resampler.resize(image, width: fitted.width, height: fitted.height, filter: .lanczos3)
            sheet.paste(scaled, x: origin.x + (grid.cellSize - scaled.width) / 2, y: origin.y + (grid.cellSize - scaled.height) / 2)
        }
        return sheet
    }
}
