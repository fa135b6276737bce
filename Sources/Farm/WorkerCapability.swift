/// The kinds of work order a worker announces in `hello` that it runs. The coordinator gives a
/// worker only tasks of kinds it announced (a worker of a build without exact shards, say,
/// never gets one).
public enum WorkerCapability: String, Sendable, Codable, CaseIterable {
    case render
    case styleTargets = "style-targets"
    case tile
    case exactShard = "exact-shard"
    /// Exact shards with band windows and the gradient exchange, L-BFGS across shards and
    /// checkpoints (exchange phases `gradients`, `dots`, `checkpoint`).
    case exactShard2 = "exact-shard-2"

    /// What a stored task of `kind` (a `PlannedTask.Kind` raw value) needs; nil for tasks the
    /// coordinator runs itself (stitches).
    public static func required(forTaskKind kind: String) -> WorkerCapability? {
        switch kind {
        case "calibrate", "render", "coarse": .render
        case "style-targets": .styleTargets
        case "tile": .tile
        case "shard": .exactShard2
        default: nil
        }
    }
}
