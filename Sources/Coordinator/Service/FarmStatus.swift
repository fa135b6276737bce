public import Protocol

/// The status document `stylefarm status` shows: jobs with task counts, and connected workers.
public enum FarmStatus {
    public static func document(records: FarmRecords, jobID: String?, workers: [(id: String, threads: Int)],
                                dataDirectory: String) throws -> JSONValue {
        var jobs: [JSONValue] = []
        for job in try records.jobs() where jobID == nil || job.id == jobID {
            let counts = try records.taskCounts(ofJob: job.id)
            let running = try records.runningTasks(ofJob: job.id).map { task -> JSONValue in
                .object(["key": .string(task.key), "worker": .string(task.worker), "iteration": .int(Int64(task.iteration)),
                         "iterations": .int(Int64(task.iterations)), "elapsed": .double(task.elapsed)])
            }
            jobs.append(.object([
                "running": .array(running),
                "id": .string(job.id), "kind": .string(job.kind), "state": .string(job.state),
                "priority": .int(Int64(job.priority)), "reason": job.reason.map(JSONValue.string) ?? .null,
                "tasks": .object(counts.mapValues { .int(Int64($0)) }),
                "directory": .string(dataDirectory + "/jobs/" + job.id),
            ]))
        }
        return .object([
            "jobs": .array(jobs),
            "workers": .array(workers.map { .object(["id": .string($0.id), "threads": .int(Int64($0.threads))]) }),
        ])
    }
}
