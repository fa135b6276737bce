"""The fuzz cases, one method per category (`case_<category>`), each given a RNG seeded with
(seed, case number): mutated headers and envelopes of every kind, absurd job specs, protocol-
invalid sequences, forgeries of another session's attempts, bad calibration results."""

import json
import time

import mutators
import wire
from mutators import INT64_MAX, emit
from wire import labels

# Forged loss lines carry iterations from here up, so that the records show whether one was kept.
FORGED_ITERATION = 900_000


class Cases:
    """The categories of `Fuzzer` (a mixin: it uses the fuzzer's sockets, records and figures)."""

    def pick_kind(self, rng, sock):
        if sock.role == "client":
            pool = wire.CLIENT_KINDS if rng.random() < 0.6 else wire.ALL_KINDS
        else:
            pool = wire.WORKER_KINDS if rng.random() < 0.6 else wire.ALL_KINDS
        kinds = [k for k in pool if not (sock.role == "stranger" and k == "hello")]
        return rng.choice(kinds)

    def pick_sock(self, rng):
        sock = self.socks[rng.choice(["w0", "w1", "w2", "s0", "s1", "c0", "c1"])]
        if sock.role == "worker" and not sock.helloed:
            self.hello(sock, name="real" if sock.name == "w2" else None)
        return sock

    def case_header(self, rng, case):
        sock = self.pick_sock(rng)
        kind = self.pick_kind(rng, sock)
        header, payloads = wire.valid_message(kind, self, rng)
        frames, names = mutators.mutate_header(rng, kind, header, payloads)
        self.send(sock, frames, "header", kind, names)

    def case_envelope(self, rng, case):
        verified = rng.random() < 0.3
        sock = self.fresh_socket(str(case)) if verified else self.pick_sock(rng)
        kind = self.pick_kind(rng, sock if not verified else self.socks["s0"])
        header, payloads = wire.valid_message(kind, self, rng)
        frames, names = mutators.mutate_envelope(rng, kind, header, payloads)
        index = self.send(sock, frames, "envelope", kind, names)
        if not verified:
            return
        try:
            expected = wire.expected_envelope_code(frames)
            before = self.settle(sock, f"env-{case}")
            got = labels(before)
            if expected is not None:
                ok = got is None or got == [f"error:{expected}"]
                self.expectations["envelope"].append({"index": index, "mutation": names[0], "kind": kind, "expected": f"error:{expected}",
                                                      "got": got, "ok": ok})
        finally:
            sock.close()

    def case_spec(self, rng, case):
        frames, names, facts = mutators.absurd_submit(rng, self.images, case)
        sock = self.socks["spec"]
        index, reply = self.request(sock, frames, "spec", "+".join(names), names, timeout=self.args.submit_timeout)
        self.note_submit(index, names, facts, reply)

    def note_submit(self, index, names, facts, reply):
        label = reply.label if reply else "no-reply"
        for name in names:
            self.submits[name][label] += 1
        if reply is not None and reply.kind == "submitted":
            job = reply.header.get("jobID")
            self.accepted[job] = {"index": index, "variants": names, "facts": facts}
            self.fuzz_jobs.append(job)
        elif reply is not None and reply.kind == "error":
            code = reply.code
            self.expectations["submit"].append({"index": index, "variants": names, "expected": "error:invalid-job",
                                                "got": [label], "ok": code == "invalid-job" or code in wire.PROTOCOL_CODES})

    def case_sequence(self, rng, case):
        choice = rng.choices(["before-hello", "hello-twice", "impostor", "huge-credit", "role-reversal", "old-hello"],
                             [0.45, 0.1, 0.1, 0.1, 0.2, 0.05])[0]
        sock = self.fresh_socket(str(case))
        try:
            getattr(self, "seq_" + choice.replace("-", "_"))(rng, case, sock)
        finally:
            sock.close()

    def seq_before_hello(self, rng, case, sock):
        kind = rng.choice(["ready", "progress", "result", "failure", "exchange", "goodbye", "heartbeat"])
        victims, real = self.victims(None)
        target = rng.choice(victims) if victims else None
        header, payloads = wire.valid_message(kind, self, rng)
        if target and "attemptID" in header:
            header["attemptID"], header["taskID"] = target["attempt"], str(target["task"])
        index = self.send(sock, wire.frames(kind, header, payloads), "sequence", f"{kind}-before-hello")
        before = self.settle(sock, f"seq-{case}")
        got = labels(before)
        self.expectations["before-hello"].append({"index": index, "kind": kind, "expected": "error:unknown-worker",
                                                  "got": got, "ok": got is None or got == ["error:unknown-worker"],
                                                  "attempt": target["attempt"] if target else None})

    def seq_hello_twice(self, rng, case, sock):
        if not self.hello(sock, name=f"fz-twice-{case}", counted=True, category="sequence"):
            return
        index = self.send(sock, wire.frames("hello", wire.hello(rng.choice([f"fz-twice-{case}", "fz-other", "real"]))),
                          "sequence", "hello-twice")
        before = self.settle(sock, f"seq-{case}")
        self.expectations["hello-twice (recorded)"].append({"index": index, "got": labels(before), "ok": True})
        self.send(sock, wire.frames("goodbye", {"reason": "fz done"}), "sequence", "goodbye", counted=False)

    def seq_impostor(self, rng, case, sock):
        """A hello with the real worker's name; the impostor then says goodbye (with a token)."""
        victims, real = self.victims(None)
        held = [v for v in victims if v["worker"] in real]
        if not self.hello(sock, name="real", counted=True, category="sequence"):
            return
        token = f"<fzimpostor:{self.seed}:{case}>"
        if rng.random() < 0.5:
            self.send(sock, wire.frames("ready", {"credit": 0}), "sequence", "impostor-ready")
        index = self.send(sock, wire.frames("goodbye", {"reason": token}), "sequence", "impostor-goodbye")
        before = self.settle(sock, f"seq-{case}")
        self.impostor_tokens.append({"index": index, "token": token, "real_attempts": [v["attempt"] for v in held],
                                     "got": labels(before)})

    def seq_huge_credit(self, rng, case, sock):
        if not self.hello(sock, name=f"fz-credit-{case}", counted=True, category="sequence"):
            return
        credit = rng.choice([4096, 4097, 65, 2**31, INT64_MAX, -1])
        index = self.send(sock, wire.frames("ready", {"credit": credit}), "sequence", f"ready-credit-{credit}")
        before = self.settle(sock, f"seq-{case}")
        time.sleep(0.05)
        self.drain(sock)
        self.expectations["huge-credit (recorded)"].append({"index": index, "credit": credit, "got": labels(before),
                                                            "assigned": len(sock.assigned), "ok": True})
        self.send(sock, wire.frames("goodbye", {"reason": "fz done"}), "sequence", "goodbye", counted=False)

    def seq_role_reversal(self, rng, case, sock):
        kind = rng.choice(wire.COORDINATOR_KINDS + wire.REPLY_KINDS)
        header, payloads = wire.valid_message(kind, self, rng)
        index = self.send(sock, wire.frames(kind, header, payloads), "sequence", f"{kind}-to-coordinator")
        before = self.settle(sock, f"seq-{case}")
        got = labels(before)
        self.expectations["role-reversal"].append({"index": index, "kind": kind, "expected": "error:unexpected", "got": got,
                                                   "ok": got is None or got == ["error:unexpected"]})

    def seq_old_hello(self, rng, case, sock):
        hello = wire.hello(f"fz-old-{case}")
        hello["protocolVersion"] = rng.choice([0, 2, 65535])
        index = self.send(sock, wire.frames("hello", hello), "sequence", "hello-other-version")
        before = self.settle(sock, f"seq-{case}")
        got = labels(before)
        self.expectations["hello-other-version (recorded)"].append({"index": index, "got": got, "ok": True})

    def case_forged(self, rng, case):
        forger = self.socks["forger"]
        if not forger.helloed and not self.hello(forger):
            return
        victims, real = self.victims(forger.worker_id)
        preferred = [v for v in victims if v["worker"] in real]
        if not preferred and rng.random() < 0.7:
            # Keep most forgeries for when the real worker holds an attempt.
            return self.case_header(rng, case)
        if preferred and rng.random() < 0.85:
            target = rng.choice(preferred)
        elif victims:
            target = rng.choice(victims)
        else:
            target = {"attempt": rng.choice([1, 2, 10**12]), "task": 1, "worker": None, "job": None, "key": None}
        kind = rng.choices(["progress", "result", "failure", "exchange", "goodbye"], [0.25, 0.25, 0.25, 0.15, 0.1])[0]
        self.forge(rng, forger, target, kind, case, real)

    def forge(self, rng, forger, target, kind, label, real, summary=None, retryable=None, category="forged"):
        token = f"<fzforged:{self.seed}:{label}>"
        attempt, task = target["attempt"], str(target["task"])
        if rng.random() < 0.15:
            task = str(rng.choice([target["task"] + 1, 0, "x"]))
        payloads = []
        expected = "error:not-your-attempt"
        if kind == "progress":
            header = {"taskID": task, "attemptID": attempt,
                      "lines": [wire.loss_line(FORGED_ITERATION + i, value=float(i + 1)) for i in range(rng.randint(1, 3))]}
        elif kind == "result":
            header = {"taskID": task, "attemptID": attempt, "finalLosses": wire.loss_line(2),
                      "summary": summary if summary is not None else self.forged_summary(token)}
            payloads = [wire.png(8, 6, 7, text=token)]
        elif kind == "failure":
            header = {"taskID": task, "attemptID": attempt, "reason": token,
                      "retryable": rng.random() < 0.6 if retryable is None else retryable}
        elif kind == "exchange":
            header = {"taskID": task, "attemptID": attempt, "step": rng.randrange(3), "phase": rng.choice(["sums", "pixels"])}
            payloads = [mutators.float_bytes([1.0] * 8)]
        else:
            header = {"reason": f"{token} attempt {attempt}"}
            if rng.random() < 0.5:
                header["attemptID"] = attempt
                expected = "error:malformedHeader"
            else:
                expected = None
        for _ in range(2):
            index = self.send(forger, wire.frames(kind, header, payloads), category, kind)
            before = self.settle(forger, f"forge-{label}")
            got = labels(before)
            if got is None or "error:unknown-worker" not in got:
                break
            # The forger's own session had expired (a long submission kept it quiet): join again.
            if not self.hello(forger):
                break
        self.forgeries.append({"index": index, "token": token, "kind": kind, "attempt": attempt, "task": target["task"],
                               "victim": target["worker"], "victim_is_real": target["worker"] in real, "job": target["job"],
                               "got": got})
        if expected:
            self.expectations["forged"].append({"index": index, "kind": kind, "victim_is_real": target["worker"] in real,
                                                "expected": expected, "got": got, "ok": got is None or got == [expected]})
        if kind == "goodbye" and expected is None:
            forger.helloed = False

    def template(self):
        if self.summary_template is None:
            self.summary_template = self.safe(self.records.latest_summary) or None
        return json.loads(json.dumps(self.summary_template or wire.SUMMARY_TEMPLATE))

    def forged_summary(self, token):
        summary = self.template()
        summary["stoppedEarly"] = token
        return summary

    def case_calibration(self, rng, case):
        """A balanced sweep whose calibration result lacks `settings` or has RI 0."""
        calib = self.socks["calib"]
        if not calib.helloed and not self.hello(calib):
            return
        spec = self.images.spec(gammas=(0, 1), priority=5000)
        spec["balance"] = "auto"
        blobs = self.images.blobs()
        header = {"spec": spec, "kind": "sweep", "priority": 5000, "blobs": [b[0] for b in blobs]}
        started = round(time.monotonic() - self.started, 3)
        index, reply = self.request(self.socks["spec"], [wire.tag(), b"submit", emit(header)] + [b[1] for b in blobs],
                                    "calibration", "submit-balanced")
        if reply is None or reply.kind != "submitted":
            return
        job = reply.header["jobID"]
        self.fuzz_jobs.append(job)
        self.accepted[job] = {"index": index, "variants": ["calibration"], "facts": {}}
        calib.assigned = []
        self.send(calib, wire.frames("ready", {"credit": 1}), "calibration", "ready")
        holder = None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and holder is None:
            self.drain(calib)
            for assignment in calib.assigned:
                if assignment.get("jobID") == job:
                    holder = ("own", {"attempt": assignment["attemptID"], "task": int(assignment["taskID"]), "worker": calib.worker_id,
                                      "job": job, "key": "calibrate"})
                else:
                    self.send(calib, wire.frames("failure", {"taskID": assignment["taskID"], "attemptID": assignment["attemptID"],
                                                             "reason": "fz calibration socket hands back", "retryable": True}),
                              "calibration", "hand-back", counted=False)
            calib.assigned = []
            if holder is None:
                for attempt in self.victims(calib.worker_id)[0]:
                    if attempt["job"] == job and attempt["key"] == "calibrate":
                        holder = ("other", attempt)
            time.sleep(0.02)
        self.send(calib, wire.frames("ready", {"credit": 0}), "calibration", "ready-0", counted=False)
        if holder is None:
            self.calibrations.append({"index": index, "job": job, "outcome": "no calibration attempt seen"})
            return
        variant = rng.choice(["no-settings", "ri-zero", "ri-empty", "ri-nan", "ri-negative", "empty-object", "not-an-object"])
        summary = self.bad_calibration_summary(variant)
        if holder[0] == "own":
            header = {"taskID": str(holder[1]["task"]), "attemptID": holder[1]["attempt"], "finalLosses": wire.loss_line(2),
                      "summary": summary}
            sent = self.send(calib, wire.frames("result", header, [wire.png(32, 27, 9)]), "calibration", f"own-result-{variant}")
            before = self.settle(calib, f"calib-{case}")
            got = labels(before)
        else:
            real = self.real_ids()
            self.forge(rng, self.socks["forger"], holder[1], "result", f"calib-{case}", real, summary=summary,
                       category="calibration")
            sent, got = self.forgeries[-1]["index"], self.forgeries[-1]["got"]
        self.calibrations.append({"index": index, "result_index": sent, "job": job, "holder": holder[0], "variant": variant,
                                  "attempt": holder[1]["attempt"], "got": got, "time": started})

    def bad_calibration_summary(self, variant):
        summary = self.template()
        if variant == "no-settings":
            summary.pop("settings", None)
        elif variant == "ri-zero":
            summary["relativeImprovement"] = [0, 1.7]
        elif variant == "ri-empty":
            summary["relativeImprovement"] = []
        elif variant == "ri-nan":
            summary["relativeImprovement"] = ["nan", 1.0]
        elif variant == "ri-negative":
            summary["relativeImprovement"] = [-1, 2]
        elif variant == "empty-object":
            summary = {}
        else:
            summary = "calibrated"
        return summary

    def case_oversize(self, rng):
        sock = self.pick_sock(rng)
        kind = self.pick_kind(rng, sock)
        header, _ = wire.valid_message(kind, self, rng)
        frames, names = mutators.oversize_frames(rng, kind, header, [])
        self.log(f"sending a {len(frames[-1])}-byte frame ({kind})")
        self.send(sock, frames, "oversize", kind, names)
