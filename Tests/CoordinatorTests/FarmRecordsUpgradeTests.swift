import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Farm
import Protocol

/// A coordinator upgraded over an older `--data` keeps serving it.
struct FarmRecordsUpgradeTests {
    @Test func aDatabaseFromBeforeTheBudgetsOpensAndShowsItsJobs() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("farm.sqlite")
        do {
            // The schema as the previous release left it, with a job mid-way.
            let old = try DatabaseQueue(path: path)
            try FarmRecords.migrator.migrate(old, upTo: "v2-task-kind")
            try old.write { db in
                try db.execute(sql: "INSERT INTO job (id, kind, spec, priority, state, created_at) VALUES ('old', 'sweep', '{}', 0, 'running', 0)")
                try db.execute(sql: "INSERT INTO task (job_id, key, kind, request, output_name, state, attempts) VALUES ('old', 'gamma=0', 'render', '{}', 'a.png', 'ready', 2)")
                try db.execute(sql: "INSERT INTO attempt (task_id, worker_id, started_at, outcome) VALUES (1, 'w', 0, 'failed'), (1, 'w', 0, 'lost')")
            }
        }
        let records = try FarmRecords(path: path)
        #expect(try records.job("old")?.state == .running)
        let counts = try DatabaseQueue(path: path).read { db in
            try Row.fetchOne(db, sql: "SELECT failures, losses FROM task WHERE job_id = 'old'").map { ($0["failures"] as Int, $0["losses"] as Int) }
        }
        #expect(counts?.0 == 1 && counts?.1 == 1, "the old attempts are counted in the budgets they belong to")
        let status = try FarmStatus.document(records: records, query: StatusQuery(), workers: [], dataDirectory: dir.path("data"))
        #expect(status.jobs.map(\.id) == ["old"] && status.jobs.first?.count(.ready) == 1)
    }
}
