#!/usr/bin/env python3
"""Reads the coordinator's records (DATA/farm.sqlite, opened read-only) for scripts/test-slurm.sh.

  records.py running DATA PREFIX    a running attempt of a worker whose name starts with PREFIX:
                                    "ATTEMPT TASK WORKER_ID" (nothing when there is none)
  records.py attempt DATA ID        "OUTCOME<TAB>FINISHED_AT<TAB>REASON" of attempt ID (FINISHED_AT
                                    is "-" while it runs)
  records.py done-by DATA TASK_ID   the name of the worker whose attempt at TASK_ID succeeded
                                    (nothing when none has)
"""
import sqlite3
import sys


def connect(data):
    conn = sqlite3.connect("file:" + data + "/farm.sqlite?mode=ro", uri=True, timeout=10)
    return conn


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    command, data, arg = argv[1], argv[2], argv[3]
    try:
        conn = connect(data)
        if command == "running":
            row = conn.execute(
                "SELECT a.id, a.task_id, a.worker_id FROM attempt a JOIN worker w ON w.id = a.worker_id"
                " WHERE a.outcome = 'running' AND substr(w.name, 1, length(?)) = ? ORDER BY a.id LIMIT 1",
                (arg, arg)).fetchone()
            if row:
                print(*row)
        elif command == "attempt":
            row = conn.execute("SELECT outcome, finished_at, reason FROM attempt WHERE id = ?",
                               (int(arg),)).fetchone()
            if row:
                outcome, finished, reason = row
                print(f"{outcome}\t{'-' if finished is None else f'{finished:.3f}'}\t{reason or ''}")
        elif command == "done-by":
            row = conn.execute(
                "SELECT w.name FROM attempt a JOIN worker w ON w.id = a.worker_id"
                " WHERE a.task_id = ? AND a.outcome = 'succeeded' LIMIT 1", (int(arg),)).fetchone()
            if row:
                print(row[0])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except sqlite3.Error as error:
        # Not there yet (the coordinator creates it as it starts), or busy: the caller polls again.
        print(f"records: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
