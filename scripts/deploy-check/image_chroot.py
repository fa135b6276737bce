"""Build deploy/kubernetes/Dockerfile's image without an engine: replay its instructions in a
Debian 12 chroot, then run what the manifests will run in it, as the image's user.

Usage (as root; scripts/check-deploy.sh --image runs it):
  image_chroot.py --dockerfile F --context DIR --base TAR --work DIR

The base is `debootstrap --variant=minbase bookworm` (what Debian's container images are made
from too), made once into TAR. FROM is checked to name Debian 12 and replaced by that base;
COPY, RUN, ENV, WORKDIR, USER, ENTRYPOINT and CMD are replayed (RUN through chroot, with the ENV
so far); any other instruction is an error rather than silently skipped. RUN needs Debian's
package mirror (apt-get update), as a real build would.

Then, as USER with ENV and WORKDIR: ENTRYPOINT+CMD exits 0; the binary's libraries all resolve;
`stylefarm weights path` lies under $STYLEFARM_HOME, which the user can write; `install`, `tar`
and `sh` exist (the manifests' init containers and `kubectl cp` use them); python3 does not.

Prints one line per finding; exit status 1 on any failure.
"""

import argparse
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys

from dockerfile_parse import DockerfileParser


def chroot(root, argv, env, user=None, cwd="/", check=True):
    """Runs argv in the chroot (as user, with exactly env, in cwd), in a private mount namespace
    with /proc mounted; returns the CompletedProcess with stdout and stderr together."""
    wrapper = 'mount -t proc proc "$1/proc" && shift && exec "$@"'
    final = ["chroot", *(["--userspec", user] if user else []), root,
             "/usr/bin/env", "-i", *[f"{key}={value}" for key, value in env.items()],
             "/bin/sh", "-c", 'cd "$0" && exec "$@"', cwd, *argv]
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper, "sh", root, *final],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {result.returncode}:\n{result.stdout}")
    return result


def make_base(tar):
    staging = tar + ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    log = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", staging],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if log.returncode != 0:
        raise RuntimeError("debootstrap failed:\n" + log.stdout[-3000:])
    subprocess.run(["tar", "-C", staging, "-cf", tar + ".part", "."], check=True)
    os.replace(tar + ".part", tar)
    shutil.rmtree(staging, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dockerfile", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--work", required=True)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("image_chroot.py needs root (chroot, unshare, file ownership)")

    if not os.path.exists(options.base):
        print(f"  making the Debian 12 minbase root (debootstrap, once) into {options.base}")
        make_base(options.base)
    root = os.path.join(options.work, "rootfs")
    os.makedirs(root)
    subprocess.run(["tar", "-C", root, "-xf", options.base], check=True)
    shutil.copy("/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    user, workdir, entrypoint, cmd = None, "/", [], []
    steps = [item for item in DockerfileParser(path=options.dockerfile).structure if item["instruction"] != "COMMENT"]
    for item in steps:
        instruction, value = item["instruction"], item["value"]
        if instruction == "FROM":
            base = value.split()[0]
            if not (base.startswith("debian:12") or base.startswith("debian:bookworm")):
                raise SystemExit(f"FAIL FROM {base}: this replay only knows Debian 12")
        elif instruction == "COPY":
            words = shlex.split(value)
            if any(word.startswith("--") for word in words):
                raise SystemExit(f"FAIL COPY {value}: flags are not replayed; extend image_chroot.py")
            *sources, target = words
            matched = [path for source in sources for path in sorted(glob.glob(os.path.join(options.context, source)))]
            if not matched:
                raise SystemExit(f"FAIL COPY {value}: nothing in {options.context} matches")
            destination = os.path.join(root, target.lstrip("/"))
            if target.endswith("/"):
                os.makedirs(destination, exist_ok=True)
            for path in matched:
                shutil.copy(path, destination)
        elif instruction == "RUN":
            try:
                argv = json.loads(value) if value.lstrip().startswith("[") else ["/bin/sh", "-c", value]
            except ValueError:
                argv = ["/bin/sh", "-c", value]
            result = chroot(root, argv, env, user=user, cwd=workdir, check=False)
            if result.returncode != 0:
                print(result.stdout[-4000:])
                raise SystemExit(f"FAIL RUN (line {item['startline'] + 1}) exited {result.returncode}")
        elif instruction == "ENV":
            for pair in shlex.split(value):
                key, _, val = pair.partition("=")
                env[key] = val
        elif instruction == "WORKDIR":
            workdir = value.strip()
            os.makedirs(os.path.join(root, workdir.lstrip("/")), exist_ok=True)
        elif instruction == "USER":
            user = value.strip() if ":" in value else value.strip() + ":" + value.strip()
        elif instruction == "ENTRYPOINT":
            entrypoint = json.loads(value)
        elif instruction == "CMD":
            cmd = json.loads(value)
        elif instruction in ("LABEL", "EXPOSE"):
            pass
        else:
            raise SystemExit(f"FAIL {instruction} is not replayed; extend image_chroot.py")
    print(f"  replayed {len(steps)} instructions on debootstrap bookworm minbase (as FROM {steps[0]['value'].split()[0]})")

    failures = 0

    def probe(what, argv, expect_ok=True, as_user=True):
        nonlocal failures
        result = chroot(root, argv, env, user=user if as_user else None, cwd=workdir, check=False)
        if (result.returncode == 0) != expect_ok:
            failures += 1
            print(f"FAIL {what}: `{' '.join(argv)}` exited {result.returncode}\n{result.stdout[-2000:]}")
        return result

    run_as = f"as {user}" if user else "as root"
    probe(f"ENTRYPOINT+CMD {run_as}", entrypoint + cmd)
    binary = entrypoint[0] if entrypoint else None
    if binary:
        libraries = probe("ldd of the binary", ["ldd", binary])
        missing = [line.strip() for line in (libraries.stdout or "").splitlines() if "not found" in line]
        if missing:
            failures += 1
            print("FAIL libraries the binary needs are not installed: " + "; ".join(missing))
        home = env.get("STYLEFARM_HOME", "")
        path = probe("weights path", entrypoint + ["weights", "path"])
        if home and not (path.stdout or "").strip().startswith(home + "/"):
            failures += 1
            print(f"FAIL `stylefarm weights path` is {path.stdout.strip()!r}, not under STYLEFARM_HOME={home}")
        if home:
            probe(f"STYLEFARM_HOME {home} writable {run_as}", ["sh", "-c", 'touch "$STYLEFARM_HOME/.probe" && rm "$STYLEFARM_HOME/.probe"'])
    for tool in ("install", "tar", "sh"):
        probe(f"{tool} present (init containers, kubectl cp)", ["sh", "-c", f"command -v {tool}"])
    probe("python3 absent", ["sh", "-c", "command -v python3"], expect_ok=False)
    usage = subprocess.run(["du", "-sm", "--exclude=./proc", root], stdout=subprocess.PIPE, text=True).stdout.split()[0]
    if failures:
        return 1
    print(f"  {run_as}: {' '.join(entrypoint + cmd)} runs, every library resolves, weights path under STYLEFARM_HOME "
          f"(writable), install/tar/sh present, python3 absent; root file system {usage} MB")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as error:
        print(f"FAIL {error}")
        sys.exit(1)
