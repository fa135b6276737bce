#!/usr/bin/env python3
"""Helper of scripts/soak.sh (Python standard library only).

  check.py images DIR          write the soak's tiny inputs: c.png (64x48), a.png and b.png (48x48)
  check.py free-port           print a free TCP port on 127.0.0.1
  check.py pending DATA        print "UNFINISHED TOTAL" jobs of DATA/farm.sqlite (0 0 when absent)
  check.py jobs DATA           print every job id of DATA/farm.sqlite, oldest first
  check.py progress DATA       print a line that changes whenever an attempt starts or ends or a job finishes
  check.py report DATA OUT     check the finished farm and print the summary; exit 1 on any violation

The database is only ever opened read-only. `report` reads what soak.sh wrote in OUT:
stats.txt (key=value figures), jobs.tsv (job id, variant, wave of every successful submit),
waits.tsv (job id, what `stylefarm wait` said) and anomalies.txt (one violation a line:
processes that exited by themselves, submits that gave up...).
"""

import glob
import json
import os
import re
import shutil
import socket
import sqlite3
import struct
import sys
import tempfile
import zlib
from collections import Counter, defaultdict

FINAL_JOB_STATES = {"succeeded", "failed", "cancelled"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- images

def write_png(path, width, height, pixel):
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row.extend(pixel(x, y))
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def cmd_images(directory):
    os.makedirs(directory, exist_ok=True)
    # Content: smooth gradients with a bright disc, so that it has edges worth keeping.
    def content(x, y):
        inside = (x - 40) ** 2 + (y - 20) ** 2 < 12 ** 2
        return (230 if inside else (x * 4) % 256, 200 if inside else (y * 5) % 256, 40 if inside else ((x + y) * 2) % 256)
    # Style a: a coarse checkerboard of two colours; style b: stripes and a vertical ramp.
    def style_a(x, y):
        on = (x // 6 + y // 6) % 2 == 1
        return (240, 60, 200) if on else (20, 60, 30)
    def style_b(x, y):
        return (int(128 + 100 * ((x * y) % 7) / 7), 255 if x % 12 < 6 else 0, int(255 * y / 47))
    write_png(os.path.join(directory, "c.png"), 64, 48, content)
    write_png(os.path.join(directory, "a.png"), 48, 48, style_a)
    write_png(os.path.join(directory, "b.png"), 48, 48, style_b)


def cmd_free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


# ---------------------------------------------------------------- database

class Database:
    """A read-only connection; if SQLite cannot open the live file read-only (WAL without a
    shared-memory file), a private copy of the database and its WAL is read instead."""

    def __init__(self, data):
        self.path = os.path.join(data, "farm.sqlite")
        self.copy_dir = None
        self.conn = None
        if not os.path.exists(self.path):
            return
        try:
            self.conn = self._open(self.path)
            self.conn.execute("SELECT COUNT(*) FROM job").fetchone()
        except sqlite3.Error:
            self.copy_dir = tempfile.mkdtemp(prefix="soak-db-")
            for suffix in ("", "-wal"):
                if os.path.exists(self.path + suffix):
                    shutil.copyfile(self.path + suffix, os.path.join(self.copy_dir, "farm.sqlite" + suffix))
            self.conn = self._open(os.path.join(self.copy_dir, "farm.sqlite"))

    @staticmethod
    def _open(path):
        conn = sqlite3.connect("file:" + path + "?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def rows(self, sql, args=()):
        if self.conn is None:
            return []
        return [dict(r) for r in self.conn.execute(sql, args).fetchall()]

    def close(self):
        if self.conn is not None:
            self.conn.close()
        if self.copy_dir:
            shutil.rmtree(self.copy_dir, ignore_errors=True)


def cmd_pending(data):
    db = Database(data)
    try:
        jobs = db.rows("SELECT state FROM job")
    except sqlite3.Error:
        jobs = []   # the coordinator is creating the schema: nothing submitted yet
    finally:
        db.close()
    print(sum(1 for j in jobs if j["state"] not in FINAL_JOB_STATES), len(jobs))


def cmd_jobs(data):
    db = Database(data)
    try:
        for j in db.rows("SELECT id FROM job ORDER BY created_at"):
            print(j["id"])
    except sqlite3.Error:
        pass
    finally:
        db.close()


def cmd_progress(data):
    """Attempts by outcome and jobs by state: the line changes whenever an attempt starts or
    ends or a job changes state."""
    db = Database(data)
    try:
        attempts = db.rows("SELECT outcome, COUNT(*) AS n FROM attempt GROUP BY outcome ORDER BY outcome")
        jobs = db.rows("SELECT state, COUNT(*) AS n FROM job GROUP BY state ORDER BY state")
        print("attempts %s; jobs %s" % (", ".join("%s %d" % (r["outcome"], r["n"]) for r in attempts) or "none",
                                        ", ".join("%s %d" % (r["state"], r["n"]) for r in jobs) or "none"))
    except sqlite3.Error as e:
        print("unreadable: %s" % e)
    finally:
        db.close()


# ---------------------------------------------------------------- report

def read_kv(path):
    values = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line:
                    key, value = line.split("=", 1)
                    values[key] = value
    return values


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    return rows


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def job_variant(job):
    """sweep/balance-off, sweep/balance-auto, tiled/independent, tiled/exact (from the stored spec)."""
    try:
        spec = json.loads(job["spec"])
    except (TypeError, ValueError):
        spec = {}
    if job["kind"] == "sweep":
        return "sweep/balance-" + str(spec.get("balance", "off"))
    if job["kind"] == "tiled":
        return "tiled/" + str(spec.get("mode", "independent"))
    return job["kind"]


def file_problem(path, png=False, is_json=False):
    """Why `path` is not a usable output, or None."""
    if not os.path.isfile(path):
        return "missing"
    size = os.path.getsize(path)
    if size == 0:
        return "empty"
    if png:
        with open(path, "rb") as f:
            if f.read(8) != PNG_MAGIC:
                return "not a PNG"
    if is_json:
        try:
            with open(path) as f:
                json.load(f)
        except (ValueError, OSError) as e:
            return "unreadable JSON (%s)" % e
    return None


def shorten(text, limit=160):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


LOG_LINE = re.compile(r"^\S+ (notice|warning|error|critical) [^:]+: .*\[\w+\] (.+)$")


def log_tally(pattern):
    """Messages at notice level and above in the logs matching `pattern`, by level and message."""
    tally = Counter()
    for path in glob.glob(pattern):
        with open(path, errors="replace") as f:
            for line in f:
                m = LOG_LINE.match(line.rstrip("\n"))
                if m:
                    tally["%s: %s" % (m.group(1), m.group(2))] += 1
    return tally


def coordinator_kills(out):
    """Relative times (s) of the coordinator kills in events.log."""
    times = []
    for line in read_lines(os.path.join(out, "events.log")):
        m = re.match(r"^\[\+\s*([0-9.]+)s\] FAULT kill -9 coordinator", line)
        if m:
            times.append(float(m.group(1)))
    return times


def cmd_report(data, out):
    stats = read_kv(os.path.join(out, "stats.txt"))
    submitted = {row[0]: row for row in read_tsv(os.path.join(out, "jobs.tsv"))}
    waits = {row[0]: (row[1] if len(row) > 1 else "?") for row in read_tsv(os.path.join(out, "waits.tsv"))}
    anomalies = read_lines(os.path.join(out, "anomalies.txt"))

    db = Database(data)
    try:
        jobs = db.rows("SELECT * FROM job ORDER BY created_at")
        tasks = db.rows("SELECT * FROM task ORDER BY id")
        attempts = db.rows("SELECT * FROM attempt ORDER BY id")
    except sqlite3.Error as e:
        print("cannot read %s: %s" % (db.path, e))
        print("0 passed, 1 failed")
        return 1
    finally:
        db.close()

    start_epoch = float(stats["start_epoch_ms"]) / 1000 if "start_epoch_ms" in stats else None
    kills = coordinator_kills(out)
    tasks_of = defaultdict(list)
    for t in tasks:
        tasks_of[t["job_id"]].append(t)
    attempts_of = defaultdict(list)
    for a in attempts:
        attempts_of[a["task_id"]].append(a)

    passed = 0
    violations = []

    def check(ok, message):
        nonlocal passed
        if ok:
            passed += 1
        else:
            violations.append(message)

    # Every submit that returned a job id must have been recorded.
    known = {j["id"] for j in jobs}
    for job_id, row in submitted.items():
        check(job_id in known, "job %s (%s) was acknowledged by a submit but is not in the database" % (job_id, row[1]))

    variants = {}
    for job in jobs:
        jid = job["id"]
        variant = job_variant(job)
        variants[jid] = variant
        label = "job %s (%s)" % (jid, variant)
        # 1. The job succeeded.
        if job["state"] == "succeeded":
            check(True, "")
        else:
            why = ""
            if job.get("reason"):
                why = ": " + shorten(job["reason"], 200)
            failing = [t for t in tasks_of[jid] if t["state"] == "failed"]
            if failing:
                t = failing[0]
                history = ", ".join("%s%s" % (a["outcome"], " (%s)" % shorten(a["reason"], 60) if a.get("reason") else "")
                                    for a in attempts_of[t["id"]])
                why += "; task %s attempts: %s" % (t["key"], history)
            wait = waits.get(jid)
            if wait:
                why += "; wait said: %s" % wait
            check(False, "%s is %s, not succeeded%s" % (label, job["state"], why))

        # 2. Each of its tasks has exactly one succeeded attempt (one check per job; the
        #    offending tasks are listed, grouped by what their attempts were).
        offenders = []
        for t in tasks_of[jid]:
            outcomes = [a["outcome"] for a in attempts_of[t["id"]]]
            wins = outcomes.count("succeeded")
            if wins != 1:
                summary = ", ".join("%s×%d" % (o, n) for o, n in sorted(Counter(outcomes).items())) or "no attempts"
                offenders.append((t["key"], "%d succeeded (%s; task %s)" % (wins, summary, t["state"])))
        if offenders:
            groups = []
            for key, summary in offenders:
                if groups and groups[-1][1] == summary:
                    groups[-1][0].append(key)
                else:
                    groups.append(([key], summary))
            described = []
            for keys, summary in groups:
                names = ", ".join(keys) if len(keys) <= 3 else "%d tasks %s … %s" % (len(keys), keys[0], keys[-1])
                described.append("%s: %s" % (names, summary))
            check(False, "%s: %d of %d tasks without exactly one succeeded attempt: %s"
                  % (label, len(offenders), len(tasks_of[jid]), "; ".join(described)))
        else:
            check(True, "")

        # 3. Its outputs are in its folder.
        folder = os.path.join(data, "jobs", jid)
        if job["kind"] == "sweep":
            required = [("contact_sheet.png", True, False), ("losses.csv", False, False), ("job.json", False, True)]
            required += [(t["output_name"], t["output_name"].endswith(".png"), False) for t in tasks_of[jid]]
        elif job["kind"] == "tiled":
            required = [("output.png", True, False), ("job.json", False, True)]
        else:
            required = [("job.json", False, True)]
        problems = []
        for name, png, is_json in required:
            problem = file_problem(os.path.join(folder, name), png=png, is_json=is_json)
            if problem:
                problems.append("%s %s" % (name, problem))
        if problems and job["state"] == "succeeded" and job.get("finished_at") and start_epoch is not None:
            # When was the job recorded as succeeded, and was the coordinator killed right after?
            finished = float(job["finished_at"]) - start_epoch
            after = [k for k in kills if k >= finished - 0.5]
            problems.append("job recorded succeeded at +%.1f s%s" % (
                finished, ", coordinator kill -9 at +%.1f s" % after[0] if after else ""))
        missing = [p[: -len(" missing")] for p in problems if p.endswith(" missing")]
        if len(missing) > 4:
            problems = [p for p in problems if not p.endswith(" missing")]
            problems.insert(0, "%d of %d missing (%s, … %s)" % (len(missing), len(required), ", ".join(missing[:3]), missing[-1]))
        check(not problems, "%s (state %s): outputs: %s" % (label, job["state"], "; ".join(problems)))

    # 4. Whatever soak.sh saw go wrong: processes that exited by themselves, submits that gave up...
    for line in anomalies:
        check(False, line)
    # Each kind of anomaly that did not happen counts as a passed check (those that did are
    # counted above, one failed check per line of anomalies.txt).
    for key in ("coordinator_unexpected_exits", "worker_unexpected_exits", "submit_gave_up", "term_timeouts"):
        if key in stats and int(stats[key] or 0) == 0:
            passed += 1
    # A passing soak must also have run its fault schedule.
    planned = {k[len("planned_"):]: int(v) for k, v in stats.items() if k.startswith("planned_")}
    for kind, count in sorted(planned.items()):
        done = int(stats.get("done_" + kind, 0))
        check(done >= count, "fault schedule incomplete: %d of %d %s" % (done, count, kind.replace("_", " ")))

    # ------------------------------------------------------------ figures
    print("== StyleFarm soak: %s" % stats.get("schedule", "?"))
    print("binary           %s" % stats.get("binary", "?"))
    print("out              %s" % out)
    print("wall time        %s s (faults %s s, drain %s s)" % (stats.get("wall_s", "?"), stats.get("fault_phase_s", "?"),
                                                               stats.get("drain_s", "?")))
    by_variant = defaultdict(Counter)
    for job in jobs:
        by_variant[variants[job["id"]]][job["state"]] += 1
    total_by_state = Counter(job["state"] for job in jobs)
    print("jobs             %d: %s" % (len(jobs), ", ".join("%s %d" % (s, n) for s, n in sorted(total_by_state.items()))))
    for variant in sorted(by_variant):
        counts = by_variant[variant]
        print("  %-22s %s" % (variant, ", ".join("%s %d" % (s, n) for s, n in sorted(counts.items()))))
    unrecorded = sorted(known - set(submitted))
    if unrecorded:
        print("  jobs no submit reported (a retried submit whose first try did get through): %s" % " ".join(unrecorded))
    task_kinds = Counter(t["kind"] for t in tasks)
    task_states = Counter(t["state"] for t in tasks)
    print("tasks            %d: %s; by state %s" % (len(tasks), ", ".join("%s %d" % kv for kv in sorted(task_kinds.items())),
                                                  ", ".join("%s %d" % kv for kv in sorted(task_states.items()))))
    outcome_counts = Counter(a["outcome"] for a in attempts)
    print("attempts         %d%s" % (len(attempts), "".join(": " + ", ".join("%s %d" % kv for kv in sorted(outcome_counts.items()))) if attempts else ""))
    per_task = Counter(len(attempts_of[t["id"]]) for t in tasks)
    print("attempts/task    %s" % ", ".join("%d: %d tasks" % kv for kv in sorted(per_task.items())))
    reasons = Counter(shorten(a.get("reason") or "", 70) for a in attempts if a["outcome"] not in ("succeeded", "running"))
    if reasons:
        print("why not succeeded (attempts):")
        for reason, n in reasons.most_common(8):
            print("  %5d  %s" % (n, reason or "(no reason)"))
    print("faults           worker kill -9 %s/%s, worker SIGTERM %s/%s, worker SIGSTOP+SIGCONT %s/%s, coordinator kill -9 %s/%s"
          % (stats.get("done_worker_kill9", 0), stats.get("planned_worker_kill9", 0),
             stats.get("done_worker_term", 0), stats.get("planned_worker_term", 0),
             stats.get("done_worker_pause", 0), stats.get("planned_worker_pause", 0),
             stats.get("done_coordinator_kill9", 0), stats.get("planned_coordinator_kill9", 0)))
    print("restarts         coordinator %s, workers %s; unexpected exits: coordinator %s, workers %s"
          % (stats.get("coordinator_restarts", 0), stats.get("worker_restarts", 0),
             stats.get("coordinator_unexpected_exits", 0), stats.get("worker_unexpected_exits", 0)))
    print("clients          waves %s, submits %s (retries %s), waits %s (retries %s)"
          % (stats.get("waves", 0), stats.get("submits_ok", 0), stats.get("submit_retries", 0),
             stats.get("waits", 0), stats.get("wait_retries", 0)))
    wait_counts = Counter(waits.values())
    if wait_counts:
        print("wait said        %s" % ", ".join("%s %d" % kv for kv in sorted(wait_counts.items())))
    for title, pattern in (("coordinator log", "coordinator.*.log"), ("worker logs", "w*.log")):
        tally = log_tally(os.path.join(out, "logs", pattern))
        if tally:
            print("%s (notice and above):" % title)
            for message, n in tally.most_common(10):
                print("  %5d  %s" % (n, shorten(message, 110)))
    for note in read_lines(os.path.join(out, "notes.txt")):
        print("note: " + note)

    if violations:
        print("violations (%d):" % len(violations))
        for v in violations:
            print(v)
    print("%d passed, %d failed" % (passed, len(violations)))
    return 1 if violations else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "images" and len(argv) == 3:
        cmd_images(argv[2])
    elif len(argv) == 2 and argv[1] == "free-port":
        cmd_free_port()
    elif len(argv) == 3 and argv[1] == "pending":
        cmd_pending(argv[2])
    elif len(argv) == 3 and argv[1] == "jobs":
        cmd_jobs(argv[2])
    elif len(argv) == 3 and argv[1] == "progress":
        cmd_progress(argv[2])
    elif len(argv) == 4 and argv[1] == "report":
        return cmd_report(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
