import Farm
import Foundation

/// `/`: the farm at a glance. Its fragments are the queue (jobs and tasks by state), the
/// workers, and the jobs with progress and ETA; each is re-sent when it renders differently.
enum FarmPage {
    struct Model: Sendable {
        var status: FarmStatusDocument
        /// Seconds left of each active listed job, by id.
        var eta: [String: Double]
    }

    static func fragments(_ model: Model) -> [PageShell.Fragment] {
        [queue(model.status), workers(model.status), jobs(model)]
    }

    static func document(_ model: Model) -> String {
        PageShell.document(title: "StyleFarm", eventsURL: "/events", header: "<span>farm</span>", fragments: fragments(model)) { $0 }
    }

    static func queue(_ status: FarmStatusDocument) -> PageShell.Fragment {
        var tasks: [String: Int] = [:]
        for job in status.jobs where job.state.isActive {
            for (state, count) in job.tasks { tasks[state, default: 0] &+= count }
        }
        let jobCounts = (status.jobCounts ?? [:]).sorted { $0.key < $1.key }
            .map { "<span class=\"s-\(HTML.escape($0.key))\">\(HTML.escape($0.key)) <b>\($0.value)</b></span>" }.joined()
        let taskCounts = TaskState.allCases.map { state in
            "<span class=\"s-\(state.rawValue)\">\(state.rawValue) <b>\(tasks[state.rawValue] ?? 0)</b></span>"
        }.joined()
        let workers = status.workers.count + (status.workersOmitted ?? 0)
        return .init(id: "queue", html: """
            <section id="queue"><h1>Farm</h1>
            <p class="counts"><span>workers connected <b>\(workers)</b></span></p>
            <p class="counts"><span class="muted">jobs</span>\(jobCounts)</p>
            <p class="counts"><span class="muted">tasks of unfinished jobs</span>\(taskCounts)</p></section>
            """)
    }

    static func workers(_ status: FarmStatusDocument) -> PageShell.Fragment {
        var rows = ""
        for worker in status.workers {
            let extras = WorkerExtras(worker)
            let task = worker.task.map { task -> String in
                let job = task.split(separator: "/", maxSplits: 1).first.map(String.init) ?? task
                return "<a href=\"/jobs/\(HTML.urlSegment(job))\">\(HTML.escape(task))</a>"
            } ?? "<span class=\"muted\">idle</span>"
            let speed = worker.iterationsPerSecond.map { String(format: "%.2f", $0) } ?? "–"
            let seen = worker.lastSeenSeconds.map { String(format: "%.1f s ago", $0) } ?? "–"
            let memory = worker.memoryBytes.map { Format.bytes($0) } ?? "–"
            let drain = extras.draining
                ? actionButton("/api/v1/workers/\(HTML.urlSegment(worker.name ?? worker.id))/drain", label: "undrain", set: ["drain": "false"])
                : actionButton("/api/v1/workers/\(HTML.urlSegment(worker.name ?? worker.id))/drain", label: "drain", set: ["drain": "true"])
            rows += """
                <tr data-worker="\(HTML.escape(worker.id))"><td>\(HTML.escape(worker.name ?? worker.id))\(extras.draining ? " <span class=\"s-wait\">draining</span>" : "")</td>
                <td>\(HTML.escape(worker.host ?? "–"))</td><td class="num">\(worker.threads)</td><td class="num">\(memory)</td><td>\(task)</td>
                <td class="num">\(worker.iteration.map(String.init) ?? "–")</td><td class="num">\(speed)</td><td class="num">\(seen)</td>
                <td class="num">\(extras.failures)</td><td>\(extras.blocked)</td><td>\(drain)</td></tr>
                """
        }
        if status.workers.isEmpty { rows = "<tr><td colspan=\"11\" class=\"muted\">no worker is connected</td></tr>" }
        let omitted = status.workersOmitted.map { "<p class=\"muted\">and \($0) more</p>" } ?? ""
        return .init(id: "workers", html: """
            <section id="workers"><h2>Workers</h2><table><thead><tr><th>name</th><th>host</th><th>threads</th><th>memory</th><th>task</th>
            <th>iteration</th><th>it/s</th><th>last heartbeat</th><th>failures</th><th>blocked for</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>\(omitted)</section>
            """)
    }

    static func jobs(_ model: Model) -> PageShell.Fragment {
        var rows = ""
        for job in model.status.jobs {
            let total = job.taskTotal, done = job.count(.done)
            let fraction = total > 0 ? Double(done) / Double(total) : 0
            let eta = model.eta[job.id].map(Format.duration) ?? (job.state.isActive ? "…" : "")
            let note = job.waiting ?? job.reason ?? ""
            rows += """
                <tr><td><a href="/jobs/\(HTML.urlSegment(job.id))">\(HTML.escape(job.id))</a></td><td>\(HTML.escape(job.kind))</td>
                <td class="state s-\(job.state.rawValue)">\(job.state.rawValue)</td><td class="num">\(job.priority)</td>
                <td><span class="bar"><i style="width:\(Int(fraction * 100))%"></i></span> \(done)/\(total)</td>
                <td class="num">\(job.running.count)</td><td class="num">\(eta)</td><td class="muted">\(HTML.escape(note.prefix(200)))</td></tr>
                """
        }
        if model.status.jobs.isEmpty { rows = "<tr><td colspan=\"8\" class=\"muted\">no job yet</td></tr>" }
        let omitted = model.status.jobsOmitted.flatMap { $0 > 0 ? "<p class=\"muted\">\($0) older jobs not listed</p>" : nil } ?? ""
        return .init(id: "jobs", html: """
            <section id="jobs"><h2>Jobs</h2><table><thead><tr><th>job</th><th>kind</th><th>state</th><th>priority</th><th>progress</th>
            <th>running</th><th>ETA</th><th></th></tr></thead><tbody>\(rows)</tbody></table>\(omitted)</section>
            """)
    }

    /// A one-button form posting `set` (JSON literals) to `action` with the token.
    static func actionButton(_ action: String, label: String, set: [String: String], confirm: String? = nil) -> String {
        let fields = set.sorted { $0.key < $1.key }.map { " data-set\($0.key)=\"\(HTML.escape($0.value))\"" }.joined()
        let ask = confirm.map { " data-confirm=\"\(HTML.escape($0))\"" } ?? ""
        return "<form class=\"inline\" data-action=\"\(HTML.escape(action))\"\(fields)\(ask)><button>\(HTML.escape(label))</button></form>"
    }
}

/// What the farm page shows of a worker beyond what it announced: failures, blocks, draining.
struct WorkerExtras {
    var failures: String
    var blocked: String
    var draining: Bool

    init(_ worker: WorkerStatus) {
        failures = worker.failures.map(String.init) ?? "–"
        blocked = (worker.blockedJobs ?? []).prefix(20)
            .map { "<a href=\"/jobs/\(HTML.urlSegment($0))\">\(HTML.escape($0))</a>" }.joined(separator: " ")
        draining = worker.draining ?? false
    }
}

/// Numbers as people read them.
enum Format {
    static func bytes(_ value: Int64) -> String {
        let gib = Double(value) / Double(1 << 30)
        return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.0f MiB", Double(value) / Double(1 << 20))
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        if seconds < 60 { return String(format: "%.0f s", seconds) }
        if seconds < 3600 { return String(format: "%.0f min %02.0f s", (seconds / 60).rounded(.down), seconds.truncatingRemainder(dividingBy: 60)) }
        return String(format: "%.0f h %02.0f min", (seconds / 3600).rounded(.down), (seconds / 60).truncatingRemainder(dividingBy: 60).rounded(.down))
    }

    static func loss(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return abs(value) >= 1e4 || (abs(value) < 1e-2 && value != 0) ? String(format: "%.3e", value) : String(format: "%.4g", value)
    }
}
