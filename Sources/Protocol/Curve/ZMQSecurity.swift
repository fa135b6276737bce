internal import CSFZeroMQ

/// How a socket authenticates and encrypts.
public enum ZMQSecurity: Sendable {
    /// No encryption (the NULL mechanism). For loopback, or with an explicit `--insecure`.
    case none
    /// A CURVE server (the coordinator's ROUTER): encrypts every connection and asks the ZAP
    /// handler on the same context whether each client key is allowed. Creating the socket fails
    /// unless a ``ZAPHandler`` is running on that context, because libzmq 4.3 would otherwise
    /// let every client in.
    case curveServer(secretKey: CurveSecretKey, zapDomain: String = "stylefarm")
    /// A CURVE client (a worker's or client's DEALER): knows the server's public key, and
    /// authenticates with its own key pair.
    case curveClient(serverKey: CurveKey, keyPair: CurveKeyPair)
}

extension ZMQSocket {
    func apply(_ security: ZMQSecurity) throws(ZMQError) {
        switch security {
        case .none:
            return
        case .curveServer(let secretKey, let zapDomain):
            try ZAPHandler.requireRunning(in: context)
            try setOption(ZMQ_CURVE_SERVER, int: 1, name: "ZMQ_CURVE_SERVER")
            try setOption(ZMQ_CURVE_SECRETKEY, bytes: secretKey.bytes, name: "ZMQ_CURVE_SECRETKEY")
            try setOption(ZMQ_ZAP_DOMAIN, string: zapDomain, name: "ZMQ_ZAP_DOMAIN")
            // ZMQ_ZAP_ENFORCE_DOMAIN (93) is a draft option: with it, a missing handler fails the
            // handshake instead of admitting the client. Libraries built without drafts refuse it
            // with EINVAL, and the ZAPHandler check above is then the only guard.
            try? setOption(93, int: 1, name: "ZMQ_ZAP_ENFORCE_DOMAIN")
        case .curveClient(let serverKey, let keyPair):
            try setOption(ZMQ_CURVE_SERVERKEY, bytes: serverKey.bytes, name: "ZMQ_CURVE_SERVERKEY")
            try setOption(ZMQ_CURVE_PUBLICKEY, bytes: keyPair.publicKey.bytes, name: "ZMQ_CURVE_PUBLICKEY")
            try setOption(ZMQ_CURVE_SECRETKEY, bytes: keyPair.secretKey.bytes, name: "ZMQ_CURVE_SECRETKEY")
        }
    }
}
