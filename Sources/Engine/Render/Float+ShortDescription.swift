extension Float {
    /// The shortest form that reads back to the same Float: 0.3, 1000, 1e-05. Used wherever a
    /// number is written for people and for the command line (presets, job commands, sweeps).
    public var shortDescription: String {
        if self == rounded(), abs(self) < 1e7 { return String(Int(self)) }
        return "\(self)"
    }
}
