import CSFBuildInfo

/// What this binary is: `stylefarm --version`, and what a worker announces in `hello`.
public enum StyleFarmBuild {
    /// The release, bumped with every issue that changes what a farm computes or says.
    public static let version = "0.11.0"

    /// The commit the package was built from (scripts/package.sh), or "unknown".
    public static let commit: String = String(cString: sf_build_commit())

    /// What a coordinator compares before giving a worker tasks: workers of another engine
    /// version may render other pixels from the same request.
    public static let engineVersion = version

    /// `stylefarm 0.11.0 (commit 1a2b3c4d5e6f)`.
    public static var description: String { "stylefarm \(version) (commit \(commit))" }
}
