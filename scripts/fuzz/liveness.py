"""Liveness: a prober thread that times `status` requests from fresh sockets, and the fuzzer's
handling of crashes (the coordinator or the worker died: record, keep a reproducer, restart)
and hangs (no statusReply within the limit: record; restart if it never comes)."""

import os
import queue
import re
import threading
import time

import zmq

import farm
import wire


class Prober(threading.Thread):
    """Sends a `status` from a fresh socket on request and times the `statusReply`."""

    def __init__(self, zctx, endpoint, timeout, grace):
        super().__init__(daemon=True)
        self.zctx, self.endpoint, self.timeout, self.grace = zctx, endpoint, timeout, grace
        self.requests = queue.Queue()
        self.results = queue.Queue()
        self.busy = threading.Event()

    def run(self):
        while True:
            request = self.requests.get()
            if request is None:
                return
            probe, epoch = request
            self.busy.set()
            try:
                self.results.put(self.probe(probe, epoch))
            finally:
                self.busy.clear()

    def probe(self, probe, epoch):
        s = self.zctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.endpoint)
        try:
            start = time.monotonic()
            s.send_multipart(wire.frames("status", {}))
            late = False
            while True:
                elapsed = time.monotonic() - start
                limit = (self.timeout if not late else self.grace) - elapsed
                if limit <= 0:
                    if not late:
                        self.results.put({"probe": probe, "epoch": epoch, "status": "timeout"})
                        late = True
                        continue
                    return {"probe": probe, "epoch": epoch, "status": "silent", "latency": None}
                if s.poll(int(limit * 1000) + 1):
                    reply = wire.Reply(s.recv_multipart())
                    latency = time.monotonic() - start
                    return {"probe": probe, "epoch": epoch, "status": "late" if late else "ok", "latency": latency,
                            "reply": reply.label}
        finally:
            s.close(0)


def signature_of(explanation, code):
    """What identifies a crash's cause: the explanation without addresses and numbers."""
    text = explanation[-1] if explanation else farm.describe_exit(code)
    text = re.sub(r"0x[0-9a-f]+", "0x…", text)
    return re.sub(r"\[[-0-9., e]*\]", "[…]", text)[:400]


class Liveness:
    """Crash and hang handling of `Fuzzer` (a mixin)."""

    def request_probe(self):
        if self.pending_probe is not None:
            return
        self.probe_count += 1
        self.pending_probe = {"probe": self.probe_count, "epoch": self.probe_epoch, "at": self.sent,
                              "window": list(self.window)}
        self.prober.requests.put((self.probe_count, self.probe_epoch))

    def wait_for_probe(self, timeout):
        deadline = time.monotonic() + timeout
        while self.pending_probe is not None and time.monotonic() < deadline:
            self.check_processes()
            self.collect_probes()
            time.sleep(0.05)

    def collect_probes(self):
        while True:
            try:
                result = self.prober.results.get_nowait()
            except queue.Empty:
                return
            pending = self.pending_probe
            if pending is None or result["probe"] != pending["probe"]:
                continue
            if result["epoch"] != self.probe_epoch:
                self.pending_probe = None
                continue
            status = result["status"]
            if status == "ok":
                self.pending_probe = None
                self.latencies.append(result["latency"])
                if result.get("reply") != "statusReply":
                    self.probe_failures.append({"at": pending["at"], "reply": result.get("reply")})
                # The fuzz jobs that went through a status are cancelled, so the farm stays usable.
                self.cancel(self.fuzz_jobs)
            elif status == "timeout":
                if self.coordinator.alive():
                    self.record_hang(pending)
            else:
                self.pending_probe = None
                hang = self.hangs[-1] if self.hangs and self.hangs[-1]["probe"] == pending["probe"] else None
                if status == "late":
                    self.latencies.append(result["latency"])
                    if hang:
                        hang["answered_after_s"] = round(result["latency"], 3)
                elif self.coordinator.alive():
                    if hang:
                        hang["answered_after_s"] = None
                        hang["restarted"] = True
                    self.log("the coordinator is alive but silent; restarting it")
                    self.coordinator.stop(grace=3)
                    self.restart_coordinator("hang")

    def record_hang(self, pending):
        number = len(self.hangs) + 1
        path = os.path.join(self.repro_dir, f"hang-{number}.json")
        window = self.since_start()
        last = next((m for m in reversed(window) if m["index"] is not None), None)
        hang = {"probe": pending["probe"], "number": number, "after_message": pending["at"], "reproducer": path,
                "suspect": {k: last[k] for k in ("index", "category", "case", "mutations")} if last else None}
        self.hangs.append(hang)
        self.write_json(path, {"what": "hang", "seed": self.seed, "status_timeout_s": self.args.status_timeout,
                               "after_message": pending["at"], "suspect_index": last["index"] if last else None,
                               "suspect_frames": last["frames"] if last else None, "log_tail": farm.tail(self.coordinator.log_path, 40),
                               "window": window})
        self.log(f"HANG {number}: no statusReply within {self.args.status_timeout} s after message {pending['at']}; {path}")

    def check_processes(self):
        if not self.coordinator.alive() and not self.aborted:
            self.record_crash()
        if not self.worker.alive() and not self.aborted:
            self.record_worker_crash()

    def record_crash(self):
        code = self.coordinator.exit_code()
        number = len(self.crashes) + 1
        lines = farm.tail(self.coordinator.log_path, 200)
        window = self.since_start()
        last = next((m for m in reversed(window) if m["index"] is not None), None)
        path = os.path.join(self.repro_dir, f"crash-{number}.json")
        explanation = farm.crash_explanation(self.coordinator.log_since_start()) or farm.explaining_lines(lines)
        signature = signature_of(explanation, code)
        self.signatures[signature] += 1
        if self.signatures[signature] > self.args.reproducers_per_crash:
            window = window[-20:]   # a crash seen before: a short reproducer
        crash = {"number": number, "after_message": self.sent, "exit": farm.describe_exit(code), "signature": signature,
                 "explanation": explanation[-3:], "reproducer": path,
                 "suspect": {k: last[k] for k in ("index", "category", "case", "mutations")} if last else None}
        if any(word in " ".join(explanation) for word in ("relativeImprovement", "settings", "balance styles", "Dictionary")):
            recorded = [c for c in self.calibrations if c.get("result_index") is not None]
            if recorded:
                crash["cause_index"] = recorded[-1]["result_index"]
                crash["cause"] = (f"the bad calibration result of message {recorded[-1]['result_index']} "
                                  f"({recorded[-1]['variant']}, job {recorded[-1]['job']}), read when the next task was leased")
        self.crashes.append(crash)
        self.write_json(path, {"what": "crash", "seed": self.seed, "exit": crash["exit"], "after_message": self.sent,
                               "explanation": crash["explanation"], "suspect_index": last["index"] if last else None,
                               "suspect_frames": last["frames"] if last else None, "cause": crash.get("cause"),
                               "cause_messages": self.cause_messages(crash, window),
                               "log_tail": lines[-80:], "window": window})
        self.log(f"CRASH {number}: coordinator {crash['exit']} after message {self.sent}: "
                 f"{crash['explanation'][-1][:300] if crash['explanation'] else '(no explanation in the log)'}; {path}")
        # A crash loop: crashes with (almost) no message sent since the last restart.
        self.crashes_in_a_row = self.crashes_in_a_row + 1 if self.sent - self.sent_at_restart < 5 else 1
        if number >= self.args.max_crashes:
            self.aborted = f"{number} coordinator crashes (--max-crashes)"
            return
        if self.crashes_in_a_row > self.args.max_crash_loop:
            self.aborted = f"{self.crashes_in_a_row} coordinator crashes in a row, each within 5 messages of a restart (--max-crash-loop)"
            return
        self.restart_coordinator("crash")

    def since_start(self):
        """The window's messages sent to this coordinator process (a reproducer replays them on a
        fresh one; earlier messages went to a process that is gone)."""
        return [m for m in self.window if m["time"] >= self.started_at]

    def cause_messages(self, crash, window):
        """The kept messages a replay needs besides the window: the hellos of the sockets in it,
        and, for a crash caused by a calibration result, that calibration's messages."""
        in_window = {(m["time"], m["identity"], m["case"]) for m in window}
        identities = {m["identity"] for m in window}
        wanted = []
        calibration = next((c for c in self.calibrations if crash.get("cause_index") is not None
                            and c.get("result_index") == crash["cause_index"]), None)
        if calibration:
            end = next((r["time"] for r in self.kept.values() if r["index"] == calibration["result_index"]), None)
            begin = calibration.get("time", 0) - 0.001
        for key, record in self.kept.items():
            if (record["time"], record["identity"], record["case"]) in in_window:
                continue
            if key[0] == "hello":
                wanted.append(record)
            elif calibration and end is not None and begin <= record["time"] <= end:
                wanted.append(record)
                identities.add(record["identity"])
        return sorted((r for r in wanted if r["identity"] in identities), key=lambda r: r["time"])

    def restart_coordinator(self, why):
        self.probe_epoch += 1
        self.pending_probe = None
        if not self.start_coordinator():
            return
        for sock in self.socks.values():
            sock.reopen()
        # Cancel what the fuzzer submitted, so a job that crashes it is not leased again at once.
        self.cancel(self.fuzz_jobs)
        for name in ("forger", "calib"):
            self.hello(self.socks[name])
        self.log(f"coordinator restarted after a {why} (pid {self.coordinator.pid})")

    def record_worker_crash(self):
        code = self.worker.exit_code()
        lines = farm.tail(self.worker.log_path, 200)
        number = len(self.worker_crashes) + 1
        real = self.real_ids()
        attempts = [a for a in self.safe(self.records.attempts) if a["worker_id"] in real]
        last = attempts[-1] if attempts else None
        job = self.records.job(last["job_id"]) if last else None
        path = os.path.join(self.repro_dir, f"worker-crash-{number}.json")
        crash = {"number": number, "after_message": self.sent, "exit": farm.describe_exit(code),
                 "explanation": (farm.crash_explanation(self.worker.log_since_start()) or farm.explaining_lines(lines))[-3:],
                 "reproducer": path, "last_attempt": last["id"] if last else None, "job": last["job_id"] if last else None,
                 "job_submitted_by_message": self.accepted.get(last["job_id"], {}).get("index") if last else None}
        self.worker_crashes.append(crash)
        self.write_json(path, {"what": "worker crash", "seed": self.seed, **crash, "log_tail": lines,
                               "task_request": last["request"].decode() if last and isinstance(last["request"], bytes) else
                               (last["request"] if last else None),
                               "job_spec": job["spec"].decode() if job and isinstance(job["spec"], bytes) else (job or {}).get("spec")})
        self.log(f"WORKER CRASH {number}: {crash['exit']}: "
                 f"{crash['explanation'][-1] if crash['explanation'] else '(no explanation)'}; {path}")
        if number >= self.args.max_crashes:
            self.aborted = f"{number} worker crashes"
            return
        self.worker.start()
