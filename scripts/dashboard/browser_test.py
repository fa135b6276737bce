#!/usr/bin/env python3
"""The dashboard in a real browser (issue 12), on a real farm.

Starts a coordinator with --http and a token, two single-threaded workers, and submits a γ
sweep and a tiled job. Headless Chromium, driven over WebDriver (Debian's chromedriver; this
client is the standard library only), opens each job's page and, without reloading it, must
see a running point's live thumbnail, points and tiles arrive, and a running task's loss curve
grow. Then it cancels a third job from its page: refused without the token, done with it. It
takes the README's screenshots when given --screenshots DIR.

Run by scripts/test-dashboard.sh; prints one line per check and ends with
"test-dashboard: N passed, M failed".
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}", flush=True)
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, step=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class WebDriver:
    """The few W3C WebDriver commands the test needs, over plain HTTP."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": shutil.which("chromium") or "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1300,1800", "--no-first-run", "--disable-extensions"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return json.load(reply).get("value")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"webdriver {method} {path}: {error.read()[:300]!r}") from None

    def go(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def js(self, script, *args):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": list(args)})

    def click(self, css):
        element = self.call("POST", f"/session/{self.session}/element", {"using": "css selector", "value": css})
        key = next(iter(element.values()))
        self.call("POST", f"/session/{self.session}/element/{key}/click", {})

    def accept_alert(self):
        return wait_until(lambda: self._accept(), 5)

    def _accept(self):
        try:
            self.call("POST", f"/session/{self.session}/alert/accept", {})
            return True
        except RuntimeError:
            return False

    def screenshot(self, path):
        data = self.call("GET", f"/session/{self.session}/screenshot")
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def quit(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        except Exception:
            pass


# What the page shows, read in the browser (one round trip).
PAGE_STATE = """
const q = s => Array.from(document.querySelectorAll(s));
return {
  marker: window.__stylefarmMarker || null,
  live: document.getElementById('live') ? document.getElementById('live').className : '',
  state: (document.getElementById('job-head') || {dataset: {}}).dataset.state || '',
  pointsDone: q('.point img.result').length,
  pointsLive: q('.point img.live').map(i => i.getAttribute('src')),
  liveLoaded: q('img.live').filter(i => i.complete && i.naturalWidth > 0).length,
  tiles: q('.tile, .band').length,
  tilesDone: q('.tile img.result, .band img.result').length,
  tilesLoaded: q('.tile img.result').filter(i => i.complete && i.naturalWidth > 0).length,
  tilesLive: q('.tile img.live, .band img.live, img.coarse.live').length,
  coarse: !!document.querySelector('img.coarse'),
  curves: q('#curves figure').map(f => [f.dataset.key, Number(f.dataset.lines), Number(f.dataset.iteration),
                                        f.querySelectorAll('svg path, svg polyline').length]),
  notice: (document.getElementById('notice') || {}).textContent || ''
};
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--screenshots")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="stylefarm-dashboard-")
    processes = []

    def start(name, argv):
        log = open(os.path.join(work, name + ".log"), "w")
        processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        return processes[-1]

    def stop_all():
        for p in reversed(processes):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(processes):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    driver = None
    try:
        zmq_port, http_port, driver_port = free_port(), free_port(), free_port()
        endpoint = f"tcp://127.0.0.1:{zmq_port}"
        http = f"http://127.0.0.1:{http_port}"
        token = secrets.token_hex(16)
        with open(os.path.join(work, "token"), "w") as f:
            f.write(token + "\n")
        start("coordinator", [args.bin, "coordinator", "--bind", endpoint, "--data", os.path.join(work, "data"),
                              "--http", f"127.0.0.1:{http_port}", "--http-token", os.path.join(work, "token")])
        if not wait_until(lambda: api(http, "/api/v1/status") is not None, 30):
            raise RuntimeError("the coordinator's HTTP side did not come up")
        for n in (1, 2):
            start(f"worker{n}", [args.bin, "worker", "--join", endpoint, "--threads", "1", "--name", f"w{n}"])
        if not wait_until(lambda: len((api(http, "/api/v1/status") or {}).get("workers", [])) == 2, 60):
            raise RuntimeError("the two workers did not join (see their logs)")
        img = lambda name: os.path.join(args.images, name)
        sweep = submit(args.bin, ["submit", "sweep", "--coordinator", endpoint, "--content", img("tubingen.jpg"),
                                  "--style", img("starry_night.jpg"), "--style", img("the_scream.jpg"),
                                  "--gamma", "0:1:0.25", "--size", "112", "--iterations", "60"])
        tiled = submit(args.bin, ["submit", "tiled", "--coordinator", endpoint, "--content", img("tubingen.jpg"),
                                  "--style", img("starry_night.jpg"), "--size", "256", "--tile", "96", "--iterations", "25",
                                  "--priority=-1"])
        start("chromedriver", ["chromedriver", f"--port={driver_port}"])
        wait_until(lambda: port_open(driver_port), 20)
        driver = WebDriver(driver_port)

        # --- The sweep's page, kept open: everything must arrive without a reload.
        driver.go(f"{http}/jobs/{sweep}")
        driver.js("window.__stylefarmMarker = 'kept';")
        first = driver.js(PAGE_STATE)
        check(wait_until(lambda: driver.js(PAGE_STATE)["live"] == "live on", 10), "sweep page: the event stream is open")
        seen_live = seen_loaded = False
        growth = {}
        shot = False
        end = time.monotonic() + 240
        while time.monotonic() < end:
            state = driver.js(PAGE_STATE)
            seen_live |= bool(state["pointsLive"])
            seen_loaded |= state["liveLoaded"] > 0
            for key, lines, iteration, paths in state["curves"]:
                low, high, drawn = growth.get(key, (iteration, iteration, 0))
                growth[key] = (min(low, iteration), max(high, iteration), max(drawn, paths))
            # The README's picture: points done, and running ones well into their optimisation.
            if (args.screenshots and not shot and state["pointsDone"] >= 2 and state["liveLoaded"] > 0
                    and any(iteration >= 25 for _, _, iteration, _ in state["curves"])):
                time.sleep(1.2)  # one more event: the page as the next update left it
                driver.screenshot(os.path.join(args.screenshots, "dashboard-sweep.png"))
                shot = True
            if state["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.3)
        state = driver.js(PAGE_STATE)
        check(state["marker"] == "kept", "sweep page: never reloaded")
        check(seen_live and seen_loaded, "sweep page: a running point showed a live thumbnail (and it loaded)")
        check(state["pointsDone"] == 5 and first["pointsDone"] < 5,
              f"sweep page: points filled in live ({first['pointsDone']} at open, {state['pointsDone']} at the end)")
        grown = [k for k, (low, high, drawn) in growth.items() if high > low and drawn > 0]
        check(bool(grown), f"sweep page: a loss curve grew while watched ({len(grown)} of {len(growth)} tasks)")
        check(state["state"] == "succeeded", f"sweep page: the job's state arrived as {state['state'] or 'nothing'}")
        if args.screenshots and not shot:
            driver.screenshot(os.path.join(args.screenshots, "dashboard-sweep.png"))

        # --- The tiled job's page: the picture assembles over the coarse pass.
        driver.go(f"{http}/jobs/{tiled}")
        driver.js("window.__stylefarmMarker = 'kept';")
        first = driver.js(PAGE_STATE)
        most_live, shot = 0, False
        end = time.monotonic() + 300
        while time.monotonic() < end:
            state = driver.js(PAGE_STATE)
            most_live = max(most_live, state["tilesLive"])
            if args.screenshots and not shot and state["tilesDone"] >= 3 and state["coarse"]:
                time.sleep(1.2)
                driver.screenshot(os.path.join(args.screenshots, "dashboard-tiled.png"))
                shot = True
            if state["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.3)
        state = driver.js(PAGE_STATE)
        check(state["marker"] == "kept", "tiled page: never reloaded")
        check(state["coarse"], "tiled page: the coarse pass shows under the tiles")
        total = state["tiles"]
        check(total > 1 and state["tilesDone"] == total and first["tilesDone"] < total and state["tilesLoaded"] == total,
              f"tiled page: tiles appeared in place ({first['tilesDone']} at open, {state['tilesDone']} at the end, {state['tilesLoaded']} loaded)")
        check(most_live > 0, "tiled page: a running tile or the coarse pass showed its live preview")
        check(state["state"] == "succeeded", f"tiled page: the job's state arrived as {state['state'] or 'nothing'}")
        if args.screenshots and not shot:
            driver.screenshot(os.path.join(args.screenshots, "dashboard-tiled.png"))

        # --- Cancel from the page: refused without the token, done with it.
        doomed = submit(args.bin, ["submit", "sweep", "--coordinator", endpoint, "--content", img("tubingen.jpg"),
                                   "--style", img("starry_night.jpg"), "--style", img("the_scream.jpg"),
                                   "--gamma", "0:1:0.1", "--size", "96", "--iterations", "200"])
        if args.screenshots:
            driver.go(http + "/")
            wait_until(lambda: driver.js("return document.querySelectorAll('#workers td').length > 4"), 10)
            wait_until(lambda: api(http, f"/api/v1/jobs/{doomed}")["jobs"][0]["running"], 30)
            time.sleep(2)
            driver.screenshot(os.path.join(args.screenshots, "dashboard-farm.png"))
        driver.go(f"{http}/jobs/{doomed}")
        driver.js("window.__stylefarmMarker = 'kept'; localStorage.removeItem('stylefarmToken');"
                  "document.getElementById('token').value = '';")
        driver.click("#cancel-job")
        driver.accept_alert()
        refused = wait_until(lambda: "refused" in driver.js(PAGE_STATE)["notice"], 10)
        check(bool(refused) and "401" in driver.js(PAGE_STATE)["notice"],
              f"cancel without the token is refused on the page: {driver.js(PAGE_STATE)['notice']!r}")
        job = api(http, f"/api/v1/jobs/{doomed}")["jobs"][0]
        check(job["state"] in ("queued", "running"), f"… and the job goes on ({job['state']})")
        driver.js("const t = document.getElementById('token'); t.value = arguments[0];"
                  "t.dispatchEvent(new Event('change'));", token)
        driver.click("#cancel-job")
        driver.accept_alert()
        cancelled = wait_until(lambda: api(http, f"/api/v1/jobs/{doomed}")["jobs"][0]["state"] == "cancelled", 15)
        check(bool(cancelled), "cancel with the token cancels the job")
        check(bool(wait_until(lambda: driver.js(PAGE_STATE)["state"] == "cancelled", 10)),
              "… and the page shows it cancelled without a reload")
        check(driver.js(PAGE_STATE)["marker"] == "kept", "cancel page: never reloaded")
    except Exception as error:  # a broken setup is a failure, with its reason
        check(False, f"the test could not run: {error}")
    finally:
        if driver:
            driver.quit()
        stop_all()
        if args.keep or failed:
            print(f"test-dashboard: logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"test-dashboard: {passed} passed, {failed} failed")
    return 1 if failed else 0


def api(http, path):
    try:
        with urllib.request.urlopen(http + path, timeout=10) as reply:
            return json.load(reply)
    except Exception:
        return None


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def submit(binary, argv):
    out = subprocess.run([binary] + argv, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"submit failed: {out.stderr.strip()[-300:]}")
    return out.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    sys.exit(main())
