"""What the schemas cannot see: the Kubernetes manifests against each other, against the image
and against the stylefarm binary, and the Dockerfile against the points the image promises.

Usage (run with the venv that scripts/check-deploy.sh makes):
  deploy_rules.py manifests --dockerfile F --drain-source F [--help-json F] [--scripts-to DIR] MANIFEST...
  deploy_rules.py dockerfile --dockerignore F DOCKERFILE

Prints one line per group of rules checked, then every violation; exit status 1 on any.
"""

import argparse
import json
import os
import re
import shlex
import sys

import yaml

from dockerfile_parse import DockerfileParser

BINARY = "/usr/bin/stylefarm"   # where the .deb installs it
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class Report:
    def __init__(self):
        self.errors = []
        self.checked = []

    def error(self, message):
        self.errors.append(message)

    def done(self, what):
        self.checked.append(what)

    def finish(self):
        """What was checked when all passed; only the violations otherwise."""
        for line in self.errors or self.checked:
            print(f"ERROR {line}" if self.errors else f"  {line}")
        return 1 if self.errors else 0


# ---------------------------------------------------------------- Dockerfile

def dockerfile_user(path):
    """(uid, gid) of the last USER, as strings; None when there is none."""
    parser = DockerfileParser(path=path)
    users = [item["value"].strip() for item in parser.structure if item["instruction"] == "USER"]
    if not users:
        return None
    uid, _, gid = users[-1].partition(":")
    return uid, gid or None


def check_dockerfile(path, dockerignore, report):
    parser = DockerfileParser(path=path)
    items = [item for item in parser.structure if item["instruction"] != "COMMENT"]
    runs = [item["value"] for item in items if item["instruction"] == "RUN"]

    froms = [item["value"].split()[0] for item in items if item["instruction"] == "FROM"]
    if len(froms) != 1:
        report.error(f"{path}: {len(froms)} FROM lines; the image is one stage on Debian 12 (the .deb is built beforehand)")
    for base in froms:
        # Debian 12 pinned: a point release (12.13-slim), a dated build (bookworm-20260202-slim) or a digest.
        pinned = re.fullmatch(r"debian:(12\.\d+-slim|bookworm-\d{8}-slim)(@sha256:[0-9a-f]{64})?", base) \
            or re.fullmatch(r"debian(:(12|bookworm)[\w.-]*)?@sha256:[0-9a-f]{64}", base)
        if not pinned:
            report.error(f"{path}: FROM {base}: pin Debian 12 slim to a point release (debian:12.N-slim), "
                         "a dated tag (debian:bookworm-YYYYMMDD-slim) or a digest; the .deb's Depends are bookworm's")
    report.done(f"base image pinned to Debian 12 slim: {', '.join(froms) or 'none'}")

    deb = "dist/stylefarm_*_amd64.deb"
    copies = [item["value"] for item in items if item["instruction"] in ("COPY", "ADD")]
    if not any(deb in value.split() for value in copies):
        report.error(f"{path}: no COPY of {deb} (the package scripts/package.sh builds)")
    installs = [run for run in runs if re.search(r"apt-get\s+install", run)]
    if not any("/tmp/stylefarm_" in run for run in installs):
        report.error(f"{path}: no RUN installs the copied /tmp/stylefarm_*_amd64.deb with apt-get install")
    if not installs:
        report.error(f"{path}: no apt-get install at all")
    for run in installs:
        for flag in ("--no-install-recommends", "-y"):
            if not re.search(r"apt-get\s+install\b[^;&|]*\s" + re.escape(flag) + r"(\s|$)", run):
                report.error(f"{path}: apt-get install without {flag}: {run[:80]}…")
        if "apt-get update" not in run:
            report.error(f"{path}: apt-get install without apt-get update in the same RUN")
        if "rm -rf /var/lib/apt/lists/*" not in run:
            report.error(f"{path}: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN")
    report.done("the .deb copied and installed with apt-get -y --no-install-recommends, lists removed in the same layer")

    for run in runs:
        if re.search(r"\b(python3?|pip3?)\b", run):
            report.error(f"{path}: a RUN mentions python or pip; the image carries none: {run[:80]}…")
    if any(re.search(r"python", base) for base in froms):
        report.error(f"{path}: a Python base image")
    report.done("no python or pip installed")

    user = dockerfile_user(path)
    if user is None:
        report.error(f"{path}: no USER; the image must not run as root")
    else:
        uid, gid = user
        if not uid.isdigit() or (gid is not None and not gid.isdigit()):
            report.error(f"{path}: USER {uid}{':' + gid if gid else ''} is not numeric; Kubernetes can only enforce runAsNonRoot on a numeric uid")
        elif int(uid) == 0:
            report.error(f"{path}: USER is root")
    report.done(f"last USER numeric and not root: {':'.join(part for part in (user or ()) if part) or 'none'}")

    entrypoints = [item["value"] for item in items if item["instruction"] == "ENTRYPOINT"]
    form = None
    if entrypoints:
        try:
            form = json.loads(entrypoints[-1])
        except ValueError:
            form = None
    if form != [BINARY]:
        report.error(f"{path}: ENTRYPOINT must be the exec form [\"{BINARY}\"] (stylefarm as PID 1, gets SIGTERM), "
                     f"found {entrypoints[-1] if entrypoints else 'none'}")
    report.done(f"ENTRYPOINT exec form [\"{BINARY}\"]")

    try:
        with open(dockerignore, encoding="utf-8") as handle:
            patterns = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except OSError as error:
        report.error(f"{dockerignore}: {error}; without it BuildKit sends the whole tree (.build included)")
        patterns = []
    if patterns and patterns[-1] != "!" + deb and ("!" + deb) not in patterns:
        report.error(f"{dockerignore}: does not re-include {deb}, so the COPY would find nothing")
    report.done(f"{os.path.basename(dockerignore)} keeps the context to {deb}")


# ---------------------------------------------------------------- manifests

def load_objects(paths, report):
    objects = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for match in re.finditer(r"[\w./-]*bin/stylefarm\b", text):
            if match.group(0) != BINARY:
                report.error(f"{path}: {match.group(0)}: the .deb installs the binary at {BINARY}")
        for obj in yaml.safe_load_all(text):
            if isinstance(obj, dict):
                objects.append((path, obj))
    report.done(f"every path to the binary is {BINARY}")
    return objects


def pod_specs(objects):
    """(where, template metadata, pod spec) of each workload."""
    for path, obj in objects:
        kind = obj.get("kind")
        name = f"{path}: {kind}/{(obj.get('metadata') or {}).get('name')}"
        spec = obj.get("spec") or {}
        if kind in WORKLOADS:
            template = spec.get("template") or {}
            yield name, obj, template.get("metadata") or {}, template.get("spec") or {}
        elif kind == "CronJob":
            template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            yield name, obj, template.get("metadata") or {}, template.get("spec") or {}
        elif kind == "Pod":
            yield name, obj, obj.get("metadata") or {}, spec


def is_stylefarm(container):
    image = str(container.get("image", ""))
    return re.search(r"(^|/)stylefarm(:|@|$)", image) is not None


def invocations(container):
    """Each stylefarm command line a container runs: (argv after the binary, description)."""
    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    name = container.get("name")
    if not command:
        if is_stylefarm(container):
            yield args, f"container {name} args"
        return
    if command[0] in (BINARY, "stylefarm"):
        yield command[1:] + args, f"container {name} command"
        return
    if command[0] in SHELLS:
        argv = command[1:] + args
        for index, token in enumerate(argv):
            if token.startswith("-") and "c" in token[1:] and index + 1 < len(argv):
                for line_number, tokens in shell_invocations(argv[index + 1]):
                    yield tokens, f"container {name} script line {line_number}"
                break


def shell_scripts(container):
    command = list(container.get("command") or [])
    if command and command[0] in SHELLS:
        argv = command[1:] + list(container.get("args") or [])
        for index, token in enumerate(argv):
            if token.startswith("-") and "c" in token[1:] and index + 1 < len(argv):
                return argv[index + 1]
    return None


def shell_invocations(script):
    for number, line in enumerate(script.splitlines(), start=1):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:
            continue   # shellcheck reports broken quoting
        for index, token in enumerate(tokens):
            if token in (BINARY, "stylefarm") and (index == 0 or tokens[index - 1] in (";", "&&", "||", "|", "!", "--", "then", "do", "else", "if", "until", "while", "exec")):
                rest = []
                for word in tokens[index + 1:]:
                    if re.fullmatch(r"[;&|<>()]+", word) or re.fullmatch(r"\d*[<>].*", word):
                        break
                    rest.append(word)
                yield number, rest


def find_subcommand(command, word):
    for sub in command.get("subcommands") or []:
        if sub.get("commandName") == word:
            return sub
    return None


def check_invocation(root, tokens, where, report):
    command, path, index = root, [], 0
    while index < len(tokens) and find_subcommand(command, tokens[index]):
        command = find_subcommand(command, tokens[index])
        path.append(tokens[index])
        index += 1
    label = "stylefarm " + " ".join(path)
    if path == [] and tokens:
        report.error(f"{where}: `stylefarm {tokens[0]}`: no such subcommand")
        return
    if command.get("subcommands") and index < len(tokens):
        report.error(f"{where}: `{label} {tokens[index]}`: no such subcommand")
        return
    if command.get("subcommands"):
        report.error(f"{where}: `{label}` needs a subcommand ({', '.join(s['commandName'] for s in command['subcommands'])})")
        return
    arguments = command.get("arguments") or []
    options = {}
    for argument in arguments:
        for name in argument.get("names") or []:
            options[("--" if name["kind"] == "long" else "-") + name["name"]] = argument
    positionals = [a for a in arguments if a.get("kind") == "positional"]
    given, count = set(), 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("-") and len(token) > 1 and not token.startswith("$"):
            name, equals, value = token.partition("=")
            argument = options.get(name)
            if argument is None:
                report.error(f"{where}: `{label}` has no option {name}")
                if not equals and index + 1 < len(tokens) and not tokens[index + 1].startswith("-"):
                    index += 1   # most likely its value: one error is enough
            else:
                given.add(id(argument))
                if argument.get("kind") == "option":
                    if not equals:
                        if index + 1 >= len(tokens):
                            report.error(f"{where}: `{label} {name}` needs a value")
                            break
                        index += 1
                        value = tokens[index]
                    allowed = argument.get("allValues")
                    if allowed and "$" not in value and value not in allowed:
                        report.error(f"{where}: `{label} {name} {value}`: expected one of {', '.join(allowed)}")
        else:
            count += 1
        index += 1
    for argument in arguments:
        if argument.get("kind") == "option" and not argument.get("isOptional", True) and id(argument) not in given:
            report.error(f"{where}: `{label}` without its required --{argument['preferredName']['name']}")
    required = sum(1 for a in positionals if not a.get("isOptional", True))
    repeating = any(a.get("isRepeating") for a in positionals)
    if count < required or (count > len(positionals) and not repeating):
        expected = str(required) if required == len(positionals) and not repeating else f"{required} or more" if repeating else f"{required} to {len(positionals)}"
        report.error(f"{where}: `{label}` takes {expected} positional arguments, given {count}")


def option_value(tokens, name):
    for index, token in enumerate(tokens):
        if token == name and index + 1 < len(tokens):
            return tokens[index + 1]
        if token.startswith(name + "="):
            return token.split("=", 1)[1]
    return None


def mount_of(container, path):
    """The volume mount holding `path` (longest mountPath prefix)."""
    best = None
    for mount in container.get("volumeMounts") or []:
        root = mount["mountPath"].rstrip("/")
        if (path == root or path.startswith(root + "/")) and (best is None or len(root) > len(best["mountPath"].rstrip("/"))):
            best = mount
    return best


def check_manifests(paths, dockerfile, drain_source, help_json, scripts_to, report):
    objects = load_objects(paths, report)
    kinds = {}
    for path, obj in objects:
        kinds.setdefault(obj.get("kind"), []).append((path, obj))
    claims = {(obj.get("metadata") or {}).get("name") for _, obj in kinds.get("PersistentVolumeClaim", [])}
    services = {(obj.get("metadata") or {}).get("name"): obj for _, obj in kinds.get("Service", [])}
    pods = list(pod_specs(objects))

    user = dockerfile_user(dockerfile)
    with open(drain_source, encoding="utf-8") as handle:
        match = re.search(r"maximumGracefulShutdownDuration\s*=\s*\.seconds\((\d+)\)", handle.read())
    if not match:
        report.error(f"{drain_source}: no maximumGracefulShutdownDuration = .seconds(N); this check reads the drain limit there")
        drain = None
    else:
        drain = int(match.group(1))

    root = None
    if help_json:
        with open(help_json, encoding="utf-8") as handle:
            root = json.load(handle)["command"]

    images, calls, scripts = set(), 0, 0
    for where, obj, meta, spec in pods:
        labels = meta.get("labels") or {}
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if obj.get("kind") in WORKLOADS - {"Job"} and not selector:
            report.error(f"{where}: no spec.selector.matchLabels")
        for key, value in selector.items():
            if labels.get(key) != value:
                report.error(f"{where}: selector {key}={value} does not match the pod template's labels (the API server refuses it)")

        volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
        containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        used = set()
        for container in containers:
            cname = container.get("name")
            for mount in container.get("volumeMounts") or []:
                used.add(mount["name"])
                if mount["name"] not in volumes:
                    report.error(f"{where}: container {cname} mounts {mount['name']}, which is not a volume of the pod")
            env = {variable["name"] for variable in container.get("env") or []}
            for token in (container.get("command") or []) + (container.get("args") or []):
                for reference in re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(token)):
                    if reference not in env:
                        report.error(f"{where}: container {cname} uses $({reference}), which is not in its env (Kubernetes would pass it literally)")
        for name, volume in volumes.items():
            if name not in used:
                report.error(f"{where}: volume {name} is mounted by no container")
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim is not None and claim not in claims:
                report.error(f"{where}: volume {name} claims {claim}, which no manifest defines")

        security = spec.get("securityContext") or {}
        if security.get("runAsNonRoot") is not True:
            report.error(f"{where}: securityContext.runAsNonRoot is not true")
        if user is not None:
            uid, gid = user
            for field, expected in (("runAsUser", uid), ("runAsGroup", gid), ("fsGroup", gid)):
                if expected is not None and str(security.get(field)) != expected:
                    report.error(f"{where}: securityContext.{field} is {security.get(field)}, the image's USER is {uid}:{gid}")
        for container in containers:
            context = container.get("securityContext") or {}
            if context.get("allowPrivilegeEscalation") is not False:
                report.error(f"{where}: container {container.get('name')}: allowPrivilegeEscalation is not false")
            if "runAsUser" in context and user is not None and str(context["runAsUser"]) != user[0]:
                report.error(f"{where}: container {container.get('name')} runs as {context['runAsUser']}, not the image's user {user[0]}")

        serves = False
        for container in containers:
            cname = container.get("name")
            if is_stylefarm(container):
                images.add(container["image"])
            is_init = container in (spec.get("initContainers") or [])
            resources = container.get("resources") or {}
            for section, key in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
                if key not in (resources.get(section) or {}):
                    report.error(f"{where}: container {cname} has no resources.{section}.{key}")
            script = shell_scripts(container)
            if script is not None and scripts_to:
                scripts += 1
                target = os.path.join(scripts_to, f"{os.path.basename(where.split(':')[0])}.{cname}.sh")
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write("#!/bin/sh\n" + script)
            for tokens, what in invocations(container):
                calls += 1
                here = f"{where}: {what}"
                if root is not None:
                    check_invocation(root, tokens, here, report)
                if tokens[:1] in (["worker"], ["coordinator"]) and not is_init:
                    serves = True
                for option in ("--key", "--keys"):
                    value = option_value(tokens, option)
                    if value is None or "$" in value:
                        continue
                    mount = mount_of(container, value)
                    volume = volumes.get(mount["name"]) if mount else None
                    if volume is None:
                        report.error(f"{here}: {option} {value} is on no volume")
                    elif "secret" in volume or "projected" in volume:
                        report.error(f"{here}: {option} {value} reads a Secret volume directly: its files are root-owned "
                                     "or group-readable, and stylefarm refuses a secret key that is not mode 0600 and its own")
                    elif "emptyDir" not in volume:
                        report.error(f"{here}: {option} {value} is on volume {mount['name']}, not an emptyDir filled by an init container")
                    elif not any(other is not container and any(m["name"] == mount["name"] and not m.get("readOnly") for m in other.get("volumeMounts") or [])
                                 for other in spec.get("initContainers") or []):
                        report.error(f"{here}: {option} {value}: no init container writes volume {mount['name']}")
                join = option_value(tokens, "--join")
                if join and "$" not in join:
                    endpoint = re.fullmatch(r"tcp://([^:/]+):(\d+)", join)
                    if not endpoint:
                        report.error(f"{here}: --join {join} is not tcp://HOST:PORT")
                    else:
                        host, port = endpoint.group(1).split(".")[0], int(endpoint.group(2))
                        service = services.get(host)
                        ports = [p.get("port") for p in ((service or {}).get("spec") or {}).get("ports") or []]
                        if service is None or port not in ports:
                            report.error(f"{here}: --join {join}: no Service {host} with port {port} in the manifests")
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if serves and drain is not None and grace <= drain:
            report.error(f"{where}: terminationGracePeriodSeconds {grace} does not outlast stylefarm's {drain} s drain "
                         "(a worker's hand-back or the coordinator's records could be cut short by SIGKILL)")

    for name, service in services.items():
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        matching = [(where, pod) for where, _, meta, pod in pods
                    if selector and all((meta.get("labels") or {}).get(k) == v for k, v in selector.items())]
        if not matching:
            report.error(f"Service {name}: its selector {selector} matches no pod template")
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            found = any(p.get("containerPort") == target or p.get("name") == target
                        for _, pod in matching for c in pod.get("containers") or [] for p in c.get("ports") or [])
            if matching and not found:
                report.error(f"Service {name}: targetPort {target} is no container port of the pods it selects")

    # The command examples in the manifests' comments (lines indented under the '#') too.
    examples = 0
    if root is not None:
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if re.match(r"\s*#\s{2,}\S", line):
                        for _, tokens in shell_invocations(line.split("#", 1)[1]):
                            examples += 1
                            check_invocation(root, tokens, f"{path}:{number}: comment", report)

    if len(images) > 1:
        report.error(f"the stylefarm containers use different images: {', '.join(sorted(images))}")
    report.done(f"{len(pods)} pod templates: selectors, volumes and claims, $(VAR) references, Services and their ports, --join endpoints")
    report.done(f"pods run as the image's user {':'.join(p for p in (user or ()) if p)} (runAsNonRoot, fsGroup), no privilege escalation, resources set")
    report.done("secret keys (--key, --keys) read from an init-filled emptyDir, never straight from a Secret")
    if drain is not None:
        report.done(f"grace periods outlast the binary's {drain} s drain ({os.path.relpath(drain_source)})")
    if root is not None:
        report.done(f"{calls} stylefarm command lines (args and sh -c scripts) and {examples} in comments "
                    "parse against the binary's own options")
    if scripts_to:
        report.done(f"{scripts} embedded sh -c scripts written out for shellcheck")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    manifests = sub.add_parser("manifests")
    manifests.add_argument("--dockerfile", required=True)
    manifests.add_argument("--drain-source", required=True)
    manifests.add_argument("--help-json")
    manifests.add_argument("--scripts-to")
    manifests.add_argument("files", nargs="+")
    dockerfile = sub.add_parser("dockerfile")
    dockerfile.add_argument("--dockerignore", required=True)
    dockerfile.add_argument("file")
    options = parser.parse_args()
    report = Report()
    if options.what == "manifests":
        check_manifests(options.files, options.dockerfile, options.drain_source, options.help_json, options.scripts_to, report)
    else:
        check_dockerfile(options.file, options.dockerignore, report)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
