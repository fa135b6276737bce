/// The codes of the coordinator's `error` replies, so that a client or worker can act on
/// them (a worker that sees `unknownWorker` says hello again; a client that sees `invalidJob`
/// fixes its submission) instead of parsing messages.
public enum FarmErrorCode: String, Sendable, Codable, CaseIterable {
    /// The peer never said hello (or said it to a coordinator that has since restarted).
    case unknownWorker = "unknown-worker"
    /// A result, progress, failure or exchange for an attempt this session does not hold.
    case notYourAttempt = "not-your-attempt"
    /// A submission that breaks a rule; the message says which and what to do.
    case invalidJob = "invalid-job"
    case unknownJob = "unknown-job"
    /// An operator action named a worker the coordinator has never known (not `unknownWorker`,
    /// which tells a worker to say hello again).
    case unknownWorkerName = "unknown-worker-name"
    /// An action that does not fit the job's state (cancelling a finished job).
    case conflict
    /// A client request whose fields are out of range.
    case invalidRequest = "invalid-request"
    /// A message kind the coordinator never accepts (it only sends it).
    case unexpected
    /// The request was valid but could not be served (the message says why).
    case failed
    /// A peer whose key's role does not allow the message (a client key acting as a worker).
    case forbidden
}
