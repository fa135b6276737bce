public import Foundation
internal import CSFZeroMQ

extension ZMQSocket {
    func apply(_ options: ZMQSocketOptions) throws(ZMQError) {
        try setOption(ZMQ_LINGER, int: options.linger.zmqMilliseconds, name: "ZMQ_LINGER")
        try setOption(ZMQ_SNDHWM, int: options.sendHighWaterMark, name: "ZMQ_SNDHWM")
        try setOption(ZMQ_RCVHWM, int: options.receiveHighWaterMark, name: "ZMQ_RCVHWM")
        if let size = options.maxMessageSize {
            try setOption(ZMQ_MAXMSGSIZE, int64: size, name: "ZMQ_MAXMSGSIZE")
        }
        if let routingID = options.routingID {
            guard !routingID.isEmpty, routingID.count <= 255, routingID.first != 0 else {
                throw ZMQError(code: .other, errno: EINVAL, operation: "zmq_setsockopt ZMQ_ROUTING_ID",
                               message: "a routing id is 1–255 bytes and must not start with a zero byte (got \(routingID.count) bytes)")
            }
            try setOption(ZMQ_ROUTING_ID, bytes: routingID, name: "ZMQ_ROUTING_ID")
        }
        if options.routerMandatory { try setOption(ZMQ_ROUTER_MANDATORY, int: 1, name: "ZMQ_ROUTER_MANDATORY") }
        if options.routerHandover { try setOption(ZMQ_ROUTER_HANDOVER, int: 1, name: "ZMQ_ROUTER_HANDOVER") }
        if options.immediate { try setOption(ZMQ_IMMEDIATE, int: 1, name: "ZMQ_IMMEDIATE") }
        if let heartbeat = options.heartbeat {
            try setOption(ZMQ_HEARTBEAT_IVL, int: heartbeat.interval.zmqMilliseconds, name: "ZMQ_HEARTBEAT_IVL")
            try setOption(ZMQ_HEARTBEAT_TIMEOUT, int: heartbeat.timeout.zmqMilliseconds, name: "ZMQ_HEARTBEAT_TIMEOUT")
            try setOption(ZMQ_HEARTBEAT_TTL, int: heartbeat.ttl.zmqMilliseconds, name: "ZMQ_HEARTBEAT_TTL")
        }
        try apply(options.security)
    }

    /// Sets an integer option by its libzmq number (for options not covered by ``ZMQSocketOptions``).
    public func setOption(_ option: Int32, int value: Int32, name: String? = nil) throws(ZMQError) {
        let handle = try requireHandle("zmq_setsockopt")
        var value = value
        try zmqCallBlocking("zmq_setsockopt \(name ?? String(option))=\(value)") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size)
        }
    }

    public func setOption(_ option: Int32, int64 value: Int64, name: String? = nil) throws(ZMQError) {
        let handle = try requireHandle("zmq_setsockopt")
        var value = value
        try zmqCallBlocking("zmq_setsockopt \(name ?? String(option))=\(value)") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size)
        }
    }

    public func setOption(_ option: Int32, bytes: Data, name: String? = nil) throws(ZMQError) {
        let handle = try requireHandle("zmq_setsockopt")
        // The value is never logged: it may be a secret key.
        try zmqCallBlocking("zmq_setsockopt \(name ?? String(option))") {
            bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        }
    }

    public func setOption(_ option: Int32, string: String, name: String? = nil) throws(ZMQError) {
        try setOption(option, bytes: Data(string.utf8), name: name)
    }

    public func intOption(_ option: Int32, name: String? = nil) throws(ZMQError) -> Int32 {
        let handle = try requireHandle("zmq_getsockopt")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try zmqCallBlocking("zmq_getsockopt \(name ?? String(option))") {
            zmq_getsockopt(handle, option, &value, &size)
        }
        return value
    }

    /// A NUL-terminated string option (up to 1 KiB).
    public func stringOption(_ option: Int32, name: String? = nil) throws(ZMQError) -> String {
        let handle = try requireHandle("zmq_getsockopt")
        var buffer = [UInt8](repeating: 0, count: 1024)
        var size = buffer.count
        let label = "zmq_getsockopt \(name ?? String(option))"
        let outcome = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress
            return Result { () throws(ZMQError) in
                try zmqCallBlocking(label) { zmq_getsockopt(handle, option, base, &size) }
            }
        }
        _ = try outcome.get()
        let bytes = buffer.prefix(min(size, buffer.count)).prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
