/// A small dense 3×3 matrix of Doubles, enough for colour transforms.
public struct Matrix3: Sendable, Equatable {
    public var rows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    public init(rows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>) = (.zero, .zero, .zero)) {
        self.rows = rows
    }

    public static let identity = Matrix3(rows: (SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)))

    public static func diagonal(_ d: SIMD3<Double>) -> Matrix3 {
        Matrix3(rows: (SIMD3(d.x, 0, 0), SIMD3(0, d.y, 0), SIMD3(0, 0, d.z)))
    }

    public subscript(row: Int, column: Int) -> Double {
        get { self.row(row)[column] }
        set {
            switch row {
            case 0: rows.0[column] = newValue
            case 1: rows.1[column] = newValue
            default: rows.2[column] = newValue
            }
        }
    }

    func row(_ i: Int) -> SIMD3<Double> { i == 0 ? rows.0 : i == 1 ? rows.1 : rows.2 }

    public var transposed: Matrix3 {
        Matrix3(rows: (SIMD3(rows.0.x, rows.1.x, rows.2.x), SIMD3(rows.0.y, rows.1.y, rows.2.y), SIMD3(rows.0.z, rows.1.z, rows.2.z)))
    }

    public func scaled(by s: Double) -> Matrix3 { Matrix3(rows: (rows.0 * s, rows.1 * s, rows.2 * s)) }

    public static func * (m: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((m.rows.0 * v).sum(), (m.rows.1 * v).sum(), (m.rows.2 * v).sum())
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        let bt = b.transposed
        func product(_ r: SIMD3<Double>) -> SIMD3<Double> { SIMD3((r * bt.rows.0).sum(), (r * bt.rows.1).sum(), (r * bt.rows.2).sum()) }
        return Matrix3(rows: (product(a.rows.0), product(a.rows.1), product(a.rows.2)))
    }

    /// The largest absolute entry, for tolerances.
    public var maxMagnitude: Double {
        max((abs(rows.0)).max(), (abs(rows.1)).max(), (abs(rows.2)).max())
    }

    public static func - (a: Matrix3, b: Matrix3) -> Matrix3 {
        Matrix3(rows: (a.rows.0 - b.rows.0, a.rows.1 - b.rows.1, a.rows.2 - b.rows.2))
    }

    public static func == (a: Matrix3, b: Matrix3) -> Bool {
        a.rows.0 == b.rows.0 && a.rows.1 == b.rows.1 && a.rows.2 == b.rows.2
    }
}

private func abs(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(Swift.abs(v.x), Swift.abs(v.y), Swift.abs(v.z)) }
