"""The verdict: checks of what the coordinator accepted (from its records, read-only, and from
the replies), and the report with the run's figures."""

import collections
import json
import os
import re
import statistics
import time

import wire
from cases import FORGED_ITERATION
from mutators import INT64_MAX

BLOB_REF = re.compile(r"^blob:[0-9a-f]{64}$")


def short(value, limit=90):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"…' ({len(value)} characters)"


class Checks:
    """The checks and the report of `Fuzzer` (a mixin)."""

    def check(self, name, failures, detail=None):
        self.checks.append({"name": name, "ok": not failures, "failures": failures, "detail": detail})

    def run_checks(self):
        limit = self.args.status_timeout
        self.check("the coordinator never crashed", [
            f"{len(group)}× {group[0]['exit']}: {signature} — first after message {group[0]['after_message']} "
            f"(suspect {group[0]['suspect']['category'] + '/' + str(group[0]['suspect']['case']) if group[0]['suspect'] else '?'}"
            f"{'; cause: ' + group[0]['cause'] if group[0].get('cause') else ''}; {group[0]['reproducer']})"
            for signature, group in self.crash_groups()])
        self.check(f"every status probe was answered with a statusReply within {limit} s",
                   [f"hang {h['number']} after message {h['after_message']} (answered after {h.get('answered_after_s')} s; "
                    f"{h['reproducer']})" for h in self.hangs] +
                   [f"probe after message {p['at']} got {p['reply']}" for p in self.probe_failures])
        self.check("the real worker never crashed",
                   [f"worker crash {c['number']}: {c['exit']}; {(c['explanation'] or ['?'])[-1]} (job {c['job']}, "
                    f"submitted by message {c['job_submitted_by_message']}; {c['reproducer']})" for c in self.worker_crashes])
        self.check("every reply is a well-formed protocol message",
                   [f"{m['socket']}: {m['problem']}" for m in self.malformed_replies])
        for name, title in [("envelope", "malformed envelopes are answered with the protocol's decoding code"),
                            ("before-hello", "worker messages before hello are refused with unknown-worker"),
                            ("role-reversal", "coordinator-to-peer kinds sent to the coordinator are refused with unexpected"),
                            ("forged", "messages about another session's attempt are refused with not-your-attempt"),
                            ("submit", "refused submissions are answered with invalid-job")]:
            grouped = collections.Counter()
            example = {}
            for e in self.expectations[name]:
                if e["ok"]:
                    continue
                what = e.get("kind") or "+".join(e.get("variants", []))
                if "mutation" in e:
                    what += f" (mutation {e['mutation']})"
                if "victim_is_real" in e:
                    what += " against the real worker" if e["victim_is_real"] else " against another session"
                text = f"{what}: expected {e['expected']}, got {','.join(e['got']) or 'no reply'}"
                grouped[text] += 1
                example.setdefault(text, e["index"])
            unknown = sum(1 for e in self.expectations[name] if e["got"] is None)
            self.check(title, [f"{n}× {text} (e.g. message {example[text]})" for text, n in grouped.most_common()],
                       f"{len(self.expectations[name]) - unknown} cases" + (f", {unknown} without a verdict (no sentinel answer)"
                                                                            if unknown else ""))
        jobs = self.safe(self.records.jobs)
        tasks = self.safe(self.records.tasks)
        attempts = self.safe(self.records.attempts)
        self.check_paths(jobs, tasks)
        zero = self.safe(self.records.zero_task_jobs)
        self.check("no job was accepted without tasks",
                   [f"job {j['id']} ({j['state']}) from message {self.accepted.get(j['id'], {}).get('index')}: "
                    f"{', '.join(self.accepted.get(j['id'], {}).get('variants', ['?']))}" for j in zero])
        self.check_overflow(jobs)
        self.check_sane(jobs)
        strict = [f"job {job} from message {info['index']}: spec field '{info['facts']['unknown_spec_field']}' ignored"
                  for job, info in self.accepted.items() if info["facts"].get("unknown_spec_field")]
        self.check("no submission with unknown spec fields was accepted (strict decoding)", strict)
        self.check_forgeries(tasks, attempts)
        self.check_calibrations(tasks)
        self.check_impostors(attempts)
        self.check_real_worker_inputs(attempts)
        self.check("the real worker stayed usable (no restart needed to render the final sweep)", self.worker_restarts)
        self.check_final(tasks, attempts)

    def crash_groups(self):
        groups = collections.OrderedDict()
        for crash in self.crashes:
            groups.setdefault(crash["signature"], []).append(crash)
        return sorted(groups.items(), key=lambda item: -len(item[1]))

    def image_paths(self, value, key=None):
        """Every (key, string) naming an image in a spec or request, at any depth."""
        if isinstance(value, dict):
            for k, v in value.items():
                yield from self.image_paths(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from self.image_paths(v, key)
        elif isinstance(value, str) and key in ("contentPath", "stylePaths", "maskPaths", "initialization", "styleTargetsPath"):
            yield key, value

    @staticmethod
    def allowed_path(key, value):
        if BLOB_REF.match(value):
            return True
        if key == "maskPaths" and value == "none":
            return True
        if key == "initialization" and value in ("content", "noise", "style"):
            return True
        if key == "styleTargetsPath" and value.startswith("task:"):
            return True
        return False

    def check_paths(self, jobs, tasks):
        bad = []
        for job in jobs:
            spec = self.parse(job["spec"])
            for key, value in self.image_paths(spec):
                if not self.allowed_path(key, value):
                    info = self.accepted.get(job["id"], {})
                    bad.append(f"job {job['id']} ({job['state']}, message {info.get('index')}, "
                               f"{'+'.join(info.get('variants', ['?']))}): {key} = {short(value)}")
                    break
        self.check("no job names an image that is not blob:<sha256> (masks 'none', init content/noise/style)", bad)
        missing = []
        for job in jobs:
            for key, value in self.image_paths(self.parse(job["spec"])):
                if BLOB_REF.match(value) and not os.path.exists(os.path.join(self.data, "blobs", value[5:])):
                    info = self.accepted.get(job["id"], {})
                    missing.append(f"job {job['id']} ({job['state']}, message {info.get('index')}, "
                                   f"{'+'.join(info.get('variants', ['?']))}): {key} = blob {value[5:17]}…, never sent")
                    break
        self.check("no job names a blob that was not sent (a worker would wait for it for ever)", missing)

    def check_overflow(self, jobs):
        bad = []
        for job in jobs:
            spec = self.parse(job["spec"])
            base = spec.get("base", {}) if isinstance(spec, dict) else {}
            iterations = base.get("iterations") or 0
            stages = base.get("scaleIterations") or []
            sizes = base.get("scaleSizes") or []
            scales = base.get("scales") if isinstance(base.get("scales"), int) else 1
            count = len(sizes) if sizes else (scales if 1 <= scales <= 64 else 1)
            total = sum(i for i in stages if isinstance(i, int)) if stages else (iterations if isinstance(iterations, int) else 0) * count
            if total > INT64_MAX:
                info = self.accepted.get(job["id"], {})
                bad.append(f"job {job['id']} ({job['state']}, message {info.get('index')}): "
                           f"{stages or f'{iterations} × {count} stages'} iterations overflow Int64")
        self.check("no job with an iteration count that overflows Int64 was accepted", bad)

    def check_sane(self, jobs):
        """Jobs no worker can finish: more iterations per stage, or more pixels per render, than
        --sane-iterations and --sane-pixels (a client raising maxPixels must not get past them)."""
        bad = []
        for job in jobs:
            spec = self.parse(job["spec"])
            base = spec.get("base", {}) if isinstance(spec, dict) else {}
            if not isinstance(base, dict):
                continue
            counts = [base.get("iterations")] + list(base.get("scaleIterations") or [])
            counts += [v for axis in spec.get("axes") or [] if axis.get("option") == "iterations" for v in axis.get("values", [])]
            sizes = [base.get("size"), base.get("styleSize")] + list(base.get("scaleSizes") or [])
            sizes += [v for axis in spec.get("axes") or [] if axis.get("option") in ("size", "style-size") for v in axis.get("values", [])]
            if job["kind"] == "tiled":
                sizes = []   # a tiled job's output may be huge; its tiles are bounded by the planner
            too_many = [c for c in counts if isinstance(c, (int, float)) and c > self.args.sane_iterations]
            too_big = [z for z in sizes if isinstance(z, (int, float)) and z * z > self.args.sane_pixels]
            if too_many or too_big:
                info = self.accepted.get(job["id"], {})
                what = (f"{max(too_many)} iterations" if too_many else "") + (" and " if too_many and too_big else "") + \
                    (f"size {max(too_big)} ({max(too_big) ** 2 / 1e6:.0f} MP)" if too_big else "")
                bad.append(f"job {job['id']} ({job['state']}, message {info.get('index')}, "
                           f"{'+'.join(info.get('variants', ['?']))}): {what}")
        self.check(f"no job asks for more than {self.args.sane_iterations} iterations a stage or "
                   f"{self.args.sane_pixels / 1e6:.0f} MP a render", bad)

    def check_forgeries(self, tasks, attempts):
        bad = []
        by_id = {a["id"]: a for a in attempts}
        tokens = {f["token"]: f for f in self.forgeries}
        for attempt in attempts:
            reason = attempt["reason"] or ""
            for token, forgery in tokens.items():
                if token in reason:
                    bad.append(f"attempt {attempt['id']} of {attempt['worker_id']} ended '{attempt['outcome']}' by a forged "
                               f"{forgery['kind']} (message {forgery['index']})")
        for task in tasks:
            result = task["result"] if isinstance(task["result"], str) else (task["result"] or b"").decode("utf-8", "replace")
            path = task["output_path"]
            output = b""
            if path and os.path.exists(path):
                with open(path, "rb") as f:
                    output = f.read(4096)
            for token, forgery in tokens.items():
                if token in result or token.encode() in output:
                    victim = by_id.get(forgery["attempt"], {})
                    bad.append(f"task {task['id']} ({task['key']}) of job {task['job_id']} stored a forged result "
                               f"(message {forgery['index']}; attempt {forgery['attempt']} of {victim.get('worker_id')}, "
                               f"now '{victim.get('outcome')}')")
        forged_progress = {f["attempt"]: f for f in self.forgeries if f["kind"] == "progress"}
        kept = collections.Counter(line["attempt_id"] for line in self.safe(self.records.loss_lines, list(forged_progress))
                                   if line["iteration"] >= FORGED_ITERATION)
        for attempt, count in sorted(kept.items()):
            forgery = forged_progress[attempt]
            bad.append(f"attempt {attempt} ({forgery['victim']}) recorded {count} forged loss line(s) (message {forgery['index']})")
        real_forged = sum(1 for f in self.forgeries if f["victim_is_real"])
        self.check("no forged progress, result, failure or goodbye was recorded",
                   sorted(set(bad), key=lambda text: [int(n) for n in re.findall(r"\d+", text)[:1]]), f"{len(self.forgeries)} forgeries, {real_forged} against the real worker's attempts")

    def check_calibrations(self, tasks):
        bad = []
        for task in tasks:
            if task["key"] != "calibrate" or task["state"] != "done":
                continue
            summary = self.parse(task["result"])
            ri = summary.get("relativeImprovement") if isinstance(summary, dict) else None
            ok = isinstance(summary, dict) and "settings" in summary and isinstance(ri, list) and ri and \
                all(isinstance(x, (int, float)) and x > 0 and x == x and x != float("inf") for x in ri)
            if not ok:
                calibration = next((c for c in self.calibrations if c["job"] == task["job_id"]), {})
                bad.append(f"job {task['job_id']}: calibration recorded with "
                           f"{'no settings' if isinstance(summary, dict) and 'settings' not in summary else f'RI {ri}'} "
                           f"({calibration.get('variant')}, result message {calibration.get('result_index')}, {calibration.get('holder')})")
        self.check("no calibration result without settings or with RI ≤ 0 was recorded", bad,
                   f"{len([c for c in self.calibrations if 'variant' in c])} bad calibration results sent")

    def check_impostors(self, attempts):
        bad = []
        real = self.real_ids()
        for impostor in self.impostor_tokens:
            for attempt in attempts:
                if attempt["worker_id"] in real and impostor["token"] in (attempt["reason"] or ""):
                    bad.append(f"the real worker's attempt {attempt['id']} ended '{attempt['outcome']}' by an impostor's "
                               f"goodbye (message {impostor['index']})")
        self.check("a hello with the real worker's name did not touch the real worker's attempts", bad,
                   f"{len(self.impostor_tokens)} impostors")

    def check_real_worker_inputs(self, attempts):
        bad = []
        real = self.real_ids()
        worker_log = ""
        try:
            with open(self.worker.log_path, errors="replace") as f:
                worker_log = f.read()
        except OSError:
            pass
        for attempt in attempts:
            if attempt["worker_id"] not in real:
                continue
            request = self.parse(attempt["request"])
            for key, value in self.image_paths(request):
                if not self.allowed_path(key, value):
                    mentioned = " (named in the worker's log)" if value and value in worker_log else ""
                    bad.append(f"attempt {attempt['id']} (job {attempt['job_id']}, {attempt['outcome']}): {key} = {short(value)}{mentioned}")
        self.check("the real worker was never given a local file to read", sorted(set(bad)))

    def check_final(self, tasks, attempts):
        final = self.final
        job = final.get("job")
        if not job:
            self.check("the final sweep succeeded on the real worker", [final.get("error", "not submitted")])
            return
        limit = self.args.final_timeout
        self.check(f"the final sweep succeeded within {limit} s",
                   [] if final.get("state") == "succeeded" else [f"job {job} is {final.get('state')} after {final.get('seconds')} s: "
                                                                 f"{final.get('reason')}"])
        real = self.real_ids()
        mine = [a for a in attempts if a["job_id"] == job]
        job_tasks = [t for t in tasks if t["job_id"] == job]
        bad = [f"attempt {a['id']} ({a['key']}) by the real worker ended '{a['outcome']}': {a['reason']}"
               for a in mine if a["worker_id"] in real and a["outcome"] != "succeeded"]
        bad += [f"attempt {a['id']} ({a['key']}) was held by {a['worker_id']}, not the real worker" for a in mine if a["worker_id"] not in real]
        bad += [f"task {t['key']} is {t['state']}" for t in job_tasks if t["state"] != "done"]
        self.check("the real worker's attempts of the final sweep all ended succeeded", bad,
                   f"{len(final.get('forged', []))} forgeries against them")
        problems = []
        shas = set(final["images"].values())
        row = self.records.job(job)
        spec = self.parse(row["spec"]) if row else {}
        named = {v for _, v in self.image_paths(spec)}
        if named != {"blob:" + s for s in shas}:
            problems.append(f"the job's spec names {sorted(named)}, not the blobs of the images sent")
        cache = os.path.join(self.worker_home, "blobs")
        missing = [name for name, sha in final["images"].items() if not os.path.exists(os.path.join(cache, sha))]
        if missing:
            problems.append(f"the worker's blob cache lacks {missing}")
        tokens = [f["token"].encode() for f in self.forgeries]
        for task in job_tasks:
            path = task["output_path"]
            if not path or not os.path.exists(path):
                problems.append(f"task {task['key']}: no output file ({path})")
                continue
            with open(path, "rb") as f:
                data = f.read()
            size = wire.png_size(data)
            if size != (32, 27):
                problems.append(f"task {task['key']}: output is {size}, not the 32×27 render of the sent content")
            if any(t in data for t in tokens):
                problems.append(f"task {task['key']}: output {os.path.basename(path)} is a forged image")
        manifest = os.path.join(self.data, "jobs", job, "job.json")
        if os.path.exists(manifest):
            with open(manifest) as f:
                text = f.read()
            for path in re.findall(r'"(?:contentPath|initialization)"\s*:\s*"([^"]*)"', text):
                if not self.allowed_path("contentPath" if "/" in path or path.startswith("blob") else "initialization", path):
                    problems.append(f"job.json names {path!r}")
        else:
            problems.append("no job.json")
        self.check("the final sweep's outputs were rendered from the blobs sent", problems)

    @staticmethod
    def parse(value):
        if value is None:
            return {}
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        try:
            return json.loads(value)
        except ValueError:
            return {}

    # --- report ----------------------------------------------------------------------------------

    def report(self):
        self.run_checks()
        lines = []
        add = lines.append
        elapsed = time.monotonic() - self.started
        add(f"\n=== protocol fuzz: seed {self.seed}, {self.sent} messages in {elapsed:.0f} s, output {self.out}")
        add("messages by category: " + ", ".join(f"{c} {n}" for c, n in self.by_category.most_common()) +
            f"; {self.bytes_sent / 1e6:.1f} MB sent; {self.send_timeouts} send timeouts")
        add("support messages: " + ", ".join(f"{c} {n}" for c, n in self.support_sent.most_common()))
        add("replies by category (kind or error:code):")
        for category in sorted(self.replies):
            add(f"  {category:12s} " + ", ".join(f"{k} {n}" for k, n in self.replies[category].most_common()))
        add("unsolicited (to fake workers): " + ", ".join(f"{k} {n}" for k, n in self.unsolicited.most_common()))
        add("submissions by variant (accepted = submitted):")
        for variant in sorted(self.submits):
            add(f"  {variant:38s} " + ", ".join(f"{k} {n}" for k, n in self.submits[variant].most_common()))
        forged = collections.Counter((f["kind"], "real" if f["victim_is_real"] else "other") for f in self.forgeries)
        add("forgeries (kind, victim): " + ", ".join(f"{k}/{v} {n}" for (k, v), n in sorted(forged.items())))
        add("forged replies: " + ", ".join(f"{k} {n}" for k, n in collections.Counter(
            "unknown (no sentinel answer)" if f["got"] is None else ",".join(f["got"]) or "no reply"
            for f in self.forgeries).most_common()))
        add("calibration cases: " + ", ".join(f"{k} {n}" for k, n in collections.Counter(
            c.get("variant", c.get("outcome")) + "/" + str(c.get("holder")) for c in self.calibrations).most_common()))
        latencies = sorted(self.latencies)
        add(f"liveness: {self.probe_count} status probes, max latency {max(latencies) if latencies else float('nan'):.3f} s, "
            f"median {statistics.median(latencies) if latencies else float('nan'):.3f} s; "
            f"{len(self.unanswered)} requests unanswered within their timeout")
        add(f"crashes: {len(self.crashes)} coordinator, {len(self.worker_crashes)} worker; hangs: {len(self.hangs)}")
        for signature, group in self.crash_groups():
            add(f"  {len(group)}× {group[0]['exit']}: {signature}")
            add(f"    after messages {', '.join(str(c['after_message']) for c in group[:12])}{' …' if len(group) > 12 else ''}")
            for crash in group[:self.args.reproducers_per_crash]:
                suspect = crash["suspect"] or {}
                add(f"    crash {crash['number']}: last message sent {suspect.get('index')} ({suspect.get('category')}/"
                    f"{suspect.get('case')} {suspect.get('mutations') or ''}); reproducer {crash['reproducer']}")
                if crash.get("cause"):
                    add(f"      cause: {crash['cause']}")
        for crash in self.worker_crashes:
            add(f"  worker crash {crash['number']} ({crash['exit']}) on job {crash['job']} from message "
                f"{crash['job_submitted_by_message']}")
            for line in crash["explanation"][-3:]:
                add(f"    log: {line[:300]}")
            add(f"    reproducer: {crash['reproducer']}")
        for hang in self.hangs:
            add(f"  hang {hang['number']} after message {hang['after_message']}, answered after {hang.get('answered_after_s')} s; "
                f"suspect {hang['suspect']}; {hang['reproducer']}")
        if self.final.get("job"):
            add(f"final sweep {self.final['job']}: {self.final.get('state')} in {self.final.get('seconds')} s "
                f"({len(self.final.get('forged', []))} forgeries against it)")
        add("\nchecks:")
        for check in self.checks:
            add(f"{'PASS' if check['ok'] else 'FAIL'}  {check['name']}" + (f"  [{check['detail']}]" if check["detail"] else ""))
            for failure in check["failures"][:self.args.show]:
                add(f"        - {failure}")
            if len(check["failures"]) > self.args.show:
                add(f"        … and {len(check['failures']) - self.args.show} more (summary.json)")
        passed = sum(1 for c in self.checks if c["ok"])
        failed = len(self.checks) - passed
        self.write_json(os.path.join(self.out, "summary.json"), {
            "seed": self.seed, "messages": self.sent, "seconds": round(elapsed, 1), "by_category": self.by_category,
            "by_case": self.by_case, "support": self.support_sent, "replies": self.replies, "unsolicited": self.unsolicited,
            "submits": self.submits, "accepted_fuzz_jobs": self.accepted, "crashes": self.crashes,
            "worker_crashes": self.worker_crashes, "hangs": self.hangs, "latencies": self.latencies,
            "forgeries": self.forgeries, "calibrations": self.calibrations, "impostors": self.impostor_tokens,
            "expectations": self.expectations, "unanswered": self.unanswered, "final": self.final, "checks": self.checks,
            "aborted": self.aborted})
        with open(os.path.join(self.out, "report.txt"), "w") as f:
            f.write("\n".join(lines) + f"\n{passed} passed, {failed} failed\n")
        print("\n".join(lines))
        print(f"{passed} passed, {failed} failed", flush=True)
        return 1 if failed else 0


# --- replay ---------------------------------------------------------------------------------------
