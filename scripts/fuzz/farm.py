"""The farm under test: one coordinator and one real worker, started and stopped by pid, and
read-only queries of the coordinator's SQLite records."""

import json
import os
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def explaining_lines(lines):
    """The lines of a log tail that say why a process died."""
    keys = ("Fatal error", "fatal error", "Crash", "crash", "Assertion", "precondition", "overflow", "Trace/breakpoint",
            "Illegal instruction", "Segmentation", "Error:", "error:", "terminated", "Aborted", "Killed", "💣")
    return [line for line in lines if any(k in line for k in keys)]


def crash_explanation(text):
    """Why a Swift process died, from what it printed: the fatal error or runtime failure (or the
    `Error:` an uncaught error printed), then the first frames of the crashed thread that are in
    our code. Returns [] when it printed nothing useful."""
    lines = text.splitlines()
    message = None
    frames = []
    for i, line in enumerate(lines):
        if message is None and (line.startswith("Fatal error") or line.startswith("Error:")):
            message = line.strip()
        if message is None and line.startswith("*** Swift runtime failure"):
            message = line.strip(" *")
        if line.startswith("Thread") and line.rstrip().endswith("crashed:"):
            for frame in lines[i + 1:i + 60]:
                if frame.startswith("Thread") or frame.startswith("Registers"):
                    break
                if "Swift runtime failure" in frame and message is None:
                    message = re.sub(r"^.*?(Swift runtime failure: [^\n]*?)( in \S+ at .*)?$", r"\1", frame).strip()
                found = re.search(r"0x[0-9a-f]+ (.*?) \+ \d+ in \S+ at (/\S+/Sources/\S+)", frame)
                if found and len(frames) < 3:
                    frames.append(f"{found.group(1)} ({found.group(2).split('/Sources/')[-1]})")
            break
    if message is None:
        crashed = [line.strip() for line in lines if line.startswith("*** Program crashed")]
        message = crashed[0] if crashed else None
    if message is None:
        return []
    return [message + (" — in " + " ← ".join(frames) if frames else "")]


def describe_exit(code):
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name} ({-code})"
        except ValueError:
            return f"killed by signal {-code}"
    if code > 128:
        try:
            return f"exit status {code} (signal {signal.Signals(code - 128).name}?)"
        except ValueError:
            return f"exit status {code}"
    return f"exit status {code}"


class Process:
    """A child process whose output goes to a log file; each start is marked in the log."""

    def __init__(self, name, argv, log_path, env, memory_limit_bytes=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.memory_limit_bytes = memory_limit_bytes
        self.proc = None
        self.starts = 0
        self.log_offset = 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"==== fuzz: start {self.starts} of {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.log_offset = log.tell()
        limit = self.memory_limit_bytes

        def limits():
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, preexec_fn=limits)
        finally:
            log.close()
        return self.proc.pid

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self):
        return None if self.proc is None else self.proc.poll()

    def log_since_start(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_for_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_since_start():
                return True
            if not self.alive():
                return False
            time.sleep(0.05)
        return False

    def cpu_seconds(self):
        """User + system CPU time so far (Linux /proc), or None."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError, AttributeError):
            return None

    def busy(self, seconds=1.0):
        """Whether the process used more than half a core over `seconds`."""
        before = self.cpu_seconds()
        time.sleep(seconds)
        after = self.cpu_seconds()
        return before is not None and after is not None and after - before > 0.5 * seconds

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; only this child, by its pid."""
        if not self.alive():
            return self.exit_code()
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            return self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=10)
        except ProcessLookupError:
            return self.proc.poll()


class Records:
    """Read-only access to DIR/farm.sqlite (the coordinator writes it; we never do)."""

    def __init__(self, path):
        self.path = path

    def _connect(self):
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        connection.row_factory = sqlite3.Row
        return connection

    def query(self, sql, args=()):
        if not os.path.exists(self.path):
            return []
        for attempt in range(5):
            try:
                connection = self._connect()
                try:
                    return [dict(row) for row in connection.execute(sql, args).fetchall()]
                finally:
                    connection.close()
            except sqlite3.OperationalError as error:
                if attempt == 4:
                    raise
                last = error
                time.sleep(0.1 * (attempt + 1))
        raise last  # noqa: F821 (unreachable)

    def running_attempts(self):
        return self.query("""
            SELECT a.id AS attempt, a.task_id AS task, a.worker_id AS worker, t.job_id AS job, t.key AS key, t.kind AS kind
            FROM attempt a JOIN task t ON t.id = a.task_id
            WHERE a.outcome = 'running' AND t.current_attempt = a.id AND t.state = 'leased'
            ORDER BY a.id""")

    def workers(self):
        return self.query("SELECT id, name, state FROM worker")

    def ready_tasks(self, jobs):
        if not jobs:
            return 0
        marks = ",".join("?" * len(jobs))
        return self.query(f"SELECT COUNT(*) AS n FROM task WHERE state = 'ready' AND job_id IN ({marks})", list(jobs))[0]["n"]

    def job(self, job_id):
        rows = self.query("SELECT id, kind, spec, state, reason, priority FROM job WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def jobs(self):
        return self.query("SELECT id, kind, spec, state, reason, priority FROM job ORDER BY created_at")

    def tasks(self, job_id=None):
        if job_id is None:
            return self.query("SELECT id, job_id, key, kind, request, state, current_attempt, attempts, result, output_path FROM task")
        return self.query("SELECT id, job_id, key, kind, request, state, current_attempt, attempts, result, output_path "
                          "FROM task WHERE job_id = ?", (job_id,))

    def attempts(self, job_id=None):
        sql = """SELECT a.id, a.task_id, a.worker_id, a.outcome, a.reason, t.job_id, t.key, t.request
                 FROM attempt a JOIN task t ON t.id = a.task_id"""
        if job_id is None:
            return self.query(sql)
        return self.query(sql + " WHERE t.job_id = ?", (job_id,))

    def zero_task_jobs(self):
        return self.query("SELECT j.id, j.state, j.spec FROM job j WHERE NOT EXISTS (SELECT 1 FROM task t WHERE t.job_id = j.id)")

    def loss_lines(self, attempt_ids):
        if not attempt_ids:
            return []
        marks = ",".join("?" * len(attempt_ids))
        return self.query(f"SELECT attempt_id, iteration, elapsed FROM loss_line WHERE attempt_id IN ({marks})", list(attempt_ids))

    def latest_summary(self):
        """A real render summary (the newest succeeded render's), as a template for forged ones."""
        rows = self.query("SELECT result FROM task WHERE state = 'done' AND kind = 'render' AND result IS NOT NULL "
                          "AND CAST(result AS TEXT) NOT LIKE '%fzforged%' ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        try:
            value = json.loads(rows[0]["result"])
        except (ValueError, TypeError):
            return None
        return value if isinstance(value, dict) and "settings" in value else None
