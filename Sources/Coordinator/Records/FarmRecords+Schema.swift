import GRDB

extension FarmRecords {
    /// The schema, as ordered migrations: a database from any earlier version is brought up to
    /// date on open, and a restarted coordinator finds everything it had recorded.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    spec BLOB NOT NULL,               -- the submission as JSON: how to re-render it
                    priority INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL,              -- queued, running, succeeded, failed, cancelled
                    created_at REAL NOT NULL,
                    finished_at REAL,
                    reason TEXT
                );
                CREATE TABLE task (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    request BLOB NOT NULL,            -- RenderRequest as JSON
                    output_name TEXT NOT NULL,
                    state TEXT NOT NULL,              -- ready, leased, done, failed, cancelled
                    current_attempt INTEGER,          -- the only attempt whose result is accepted
                    attempts INTEGER NOT NULL DEFAULT 0,
                    result BLOB,                      -- final losses and summary as JSON
                    output_path TEXT,
                    UNIQUE (job_id, key)
                );
                CREATE INDEX task_by_state ON task(state, job_id);
                CREATE TABLE task_dependency (
                    task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
                    depends_on INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
                    PRIMARY KEY (task_id, depends_on)
                );
                CREATE TABLE worker (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    threads INTEGER NOT NULL,
                    public_key TEXT,
                    state TEXT NOT NULL,              -- connected, lost, gone
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL
                );
                CREATE TABLE attempt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
                    worker_id TEXT NOT NULL,
                    started_at REAL NOT NULL,
                    finished_at REAL,
                    outcome TEXT NOT NULL,            -- running, succeeded, failed, lost, cancelled
                    reason TEXT
                );
                CREATE INDEX attempt_by_worker ON attempt(worker_id, outcome);
                CREATE TABLE loss_line (
                    attempt_id INTEGER NOT NULL REFERENCES attempt(id) ON DELETE CASCADE,
                    iteration INTEGER NOT NULL,
                    total REAL NOT NULL,
                    content REAL NOT NULL,
                    styles TEXT NOT NULL,             -- JSON array, one per style
                    tv REAL NOT NULL,
                    elapsed REAL NOT NULL,
                    PRIMARY KEY (attempt_id, iteration)
                );
                """)
        }
        migrator.registerMigration("v2-task-kind") { db in
            // Stitches and exact shards are looked up by kind in every lease batch; without this
            // the query would walk every ready task of every sweep.
            try db.execute(sql: "CREATE INDEX task_by_kind_state ON task(kind, state)")
        }
        migrator.registerMigration("v3-budgets") { db in
            // Failures the task caused and losses the infrastructure caused are counted apart
            // (each with its own budget); a lost task waits `not_before` (back-off). A job's
            // spec records the version of its format, so that a newer coordinator reads old jobs.
            try db.execute(sql: """
                ALTER TABLE task ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE task ADD COLUMN losses INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE task ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
                ALTER TABLE job ADD COLUMN spec_version INTEGER NOT NULL DEFAULT 1;
                UPDATE task SET
                    failures = (SELECT COUNT(*) FROM attempt WHERE task_id = task.id AND outcome = 'failed'),
                    losses = (SELECT COUNT(*) FROM attempt WHERE task_id = task.id AND outcome = 'lost');
                CREATE INDEX attempt_by_outcome ON attempt(outcome);
                """)
        }
        migrator.registerMigration("v4-nodes") { db in
            // Workers announce their machine, memory, capabilities, engine and weights; a task
            // records the pixels it renders at once, so that it goes only to a worker that can
            // hold it (0: unknown, any worker).
            try db.execute(sql: """
                ALTER TABLE worker ADD COLUMN host TEXT;
                ALTER TABLE worker ADD COLUMN memory_bytes INTEGER;
                ALTER TABLE worker ADD COLUMN capabilities TEXT;
                ALTER TABLE worker ADD COLUMN engine_version TEXT;
                ALTER TABLE worker ADD COLUMN weights_sha256 TEXT;
                ALTER TABLE task ADD COLUMN pixels INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v5-operator-actions") { db in
            // Operators block workers for jobs (and the coordinator does, after repeated
            // failures) and drain workers. Both are keyed by the worker's name, not a session
            // id: a session id changes every time a worker joins, and a block or a drain must
            // outlast reconnections and coordinator restarts.
            try db.execute(sql: """
                CREATE TABLE worker_block (
                    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    worker_name TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    blocked_by TEXT NOT NULL,         -- who asked ('client:alice', 'http'), or 'automatic'
                    automatic INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (job_id, worker_name)
                );
                CREATE TABLE worker_drain (
                    worker_name TEXT PRIMARY KEY,
                    drained_by TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE INDEX worker_by_name ON worker(name);
                """)
        }
        migrator.registerMigration("v6-exact-checkpoints") { db in
            // Each shard of an exact job saves its state every few iterations; the coordinator
            // keeps the bytes as a blob and a row here per shard. An iteration is complete (a
            // gang can resume from it) once every shard's row is in; only the latest complete
            // one is kept per job (with the rows of the iteration being collected).
            try db.execute(sql: """
                CREATE TABLE exact_checkpoint (
                    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    iteration INTEGER NOT NULL,
                    shard_index INTEGER NOT NULL,     -- 0-based
                    shard_count INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,             -- the blob holding the shard's ExactShardCheckpoint
                    bytes INTEGER NOT NULL,
                    stored_at REAL NOT NULL,
                    complete INTEGER NOT NULL DEFAULT 0,  -- 1 on every row of an iteration all shards stored
                    PRIMARY KEY (job_id, iteration, shard_index)
                );
                """)
        }
        migrator.registerMigration("v7-checkpoint-stage") { db in
            // Coarse-to-fine exact jobs run a gang per stage; a checkpoint resumes only shards
            // of the stage that saved it. Rows from before are of a job's only stage, 1.
            try db.execute(sql: """
                CREATE TABLE exact_checkpoint_staged (
                    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    stage INTEGER NOT NULL DEFAULT 1,     -- 1-based; a job of one stage has only 1
                    iteration INTEGER NOT NULL,
                    shard_index INTEGER NOT NULL,
                    shard_count INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    stored_at REAL NOT NULL,
                    complete INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (job_id, stage, iteration, shard_index)
                );
                INSERT INTO exact_checkpoint_staged (job_id, stage, iteration, shard_index, shard_count, sha256, bytes, stored_at, complete)
                    SELECT job_id, 1, iteration, shard_index, shard_count, sha256, bytes, stored_at, complete FROM exact_checkpoint;
                DROP TABLE exact_checkpoint;
                ALTER TABLE exact_checkpoint_staged RENAME TO exact_checkpoint;
                """)
        }
        return migrator
    }
}
