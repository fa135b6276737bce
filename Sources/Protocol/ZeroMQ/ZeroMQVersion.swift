internal import CSFZeroMQ

/// The libzmq this process runs against, and the one it was compiled against; a worker reports
/// both in its hello so that a mismatched node is easy to spot.
public enum ZeroMQVersion {
    public static var runtime: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    public static var compiledAgainst: String {
        let v = csf_zmq_header_version()
        return "\(v / 10000).\(v / 100 % 100).\(v % 100)"
    }
}
