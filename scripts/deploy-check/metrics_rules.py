#!/usr/bin/env python3
"""Checks deploy/grafana/*.json and /metrics scrapes against the metrics the coordinator exports.

  metrics_rules.py catalogue                       print the exported series names, one a line
  metrics_rules.py grafana DASHBOARD [--scrape F] [--rules-out F]
        the dashboard's structure (unique panel ids, grid inside 24 columns, every target with a
        refId and an expression, the Prometheus datasource as the ${datasource} variable), every
        metric name its expressions use is exported, and every exported metric is charted.
        Names come from the catalogue in the sources, or with --scrape from a real scrape (then
        only the names that scrape shows). --rules-out writes the expressions as a Prometheus
        rules file, with Grafana's variables filled in, for `promtool check rules` (PromQL syntax).
  metrics_rules.py scrape FILE
        every family of a scrape is in the catalogue and has help text.

The catalogue is read from the Swift sources (Sources/Dashboard/FarmMetricCatalogue.swift, with
the names of CoordinatorMetrics.Name), the one list the exporter uses; the Python standard library
only, so that it runs with any python3.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "Sources/Dashboard/FarmMetricCatalogue.swift"
NAMES = ROOT / "Sources/Coordinator/Service/CoordinatorMetrics.swift"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def catalogue():
    """{family name: kind} from the Swift catalogue."""
    constants = dict(re.findall(r'public static let (\w+) = "([a-z_:]+)"', NAMES.read_text(encoding="utf-8")))
    families = {}
    for name, kind in re.findall(r'Entry\(name: ("[a-z_:]+"|Name\.\w+), kind: \.(\w+)', CATALOGUE.read_text(encoding="utf-8")):
        if name.startswith("Name."):
            if name[5:] not in constants:
                sys.exit(f"{CATALOGUE}: {name} is not a constant of CoordinatorMetrics.Name")
            name = constants[name[5:]]
        else:
            name = name.strip('"')
        families[name] = kind
    if len(families) < 5:
        sys.exit(f"{CATALOGUE}: found only {len(families)} metrics; has the catalogue's format changed?")
    return families


def series(families):
    names = set()
    for name, kind in families.items():
        names.update(name + s for s in HISTOGRAM_SUFFIXES) if kind == "histogram" else names.add(name)
    return names


def scrape_families(path):
    """{family: help} of a Prometheus text exposition (TYPE and HELP lines)."""
    families = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if m := re.match(r"# TYPE (\S+) (\S+)", line):
            families.setdefault(m[1], {"type": m[2], "help": ""})["type"] = m[2]
        elif m := re.match(r"# HELP (\S+) (.*)", line):
            families.setdefault(m[1], {"type": "", "help": ""})["help"] = m[2]
    return families


def scrape_series(path):
    names = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)[0])
    return names


def check_grafana(path, exported, families, rules_out=None):
    problems = []
    try:
        dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"{path}: not JSON: {error}"], 0
    for key in ("title", "uid", "panels", "schemaVersion", "templating"):
        if key not in dashboard:
            problems.append(f"{path}: no '{key}'")
    variables = {v.get("name") for v in dashboard.get("templating", {}).get("list", [])}
    if "datasource" not in variables:
        problems.append(f"{path}: no 'datasource' template variable: the dashboard would name one Prometheus uid")
    for variable in dashboard.get("templating", {}).get("list", []):
        if isinstance(variable.get("datasource"), dict) and variable["datasource"].get("uid") != "${datasource}":
            problems.append(f"variable '{variable.get('name')}': datasource is not the ${{datasource}} variable")
    ids, used, expressions = set(), set(), []
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problems.append(f"panel '{title}': id {panel.get('id')} repeated")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "xywh") or grid["x"] + grid["w"] > 24:
            problems.append(f"panel '{title}': gridPos {grid} is not inside the 24-column grid")
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel '{title}': datasource is not the ${{datasource}} variable")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"panel '{title}': no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            problems.append(f"panel '{title}': refIds {refs} missing or repeated")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append(f"panel '{title}': a target without an expression")
                continue
            expressions.append((title, expr))
            for name in re.findall(r"\bstylefarm_[a-zA-Z0-9_:]*", expr):
                used.add(name)
                if name not in exported:
                    problems.append(f"panel '{title}': {name} is not a metric the coordinator exports")
    charted = set(used)
    for name in used:
        charted.update(name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s))
    for family in families:
        if family not in charted:
            problems.append(f"{path}: {family} is exported but no panel charts it")
    if rules_out:
        rules = [{"record": f"stylefarm_dashboard:panel_{i}", "expr": expr.replace("$__rate_interval", "5m").replace("$job", ".*")}
                 for i, (_, expr) in enumerate(expressions)]
        Path(rules_out).write_text(json.dumps({"groups": [{"name": "stylefarm-dashboard", "rules": rules}]}, indent=1), encoding="utf-8")
    return problems, len(expressions)


def main(argv):
    if not argv or argv[0] not in ("catalogue", "grafana", "scrape"):
        sys.exit(__doc__)
    families = catalogue()
    if argv[0] == "catalogue":
        print("\n".join(sorted(series(families))))
        return 0
    if argv[0] == "scrape":
        scraped = scrape_families(argv[1])
        problems = [f"{name}: not in the catalogue ({CATALOGUE.name})" for name in scraped if name not in families]
        problems += [f"{name}: no help text" for name, family in scraped.items() if not family["help"].strip()]
        problems += [f"{name}: exported as {family['type']}, the catalogue says {families[name]}" for name, family in scraped.items()
                     if name in families and family["type"] != families[name]]
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{len(scraped)} families, each in the catalogue with its type and help text")
        return 1 if problems else 0
    dashboard, rest = argv[1], argv[2:]
    scrape = rest[rest.index("--scrape") + 1] if "--scrape" in rest else None
    rules_out = rest[rest.index("--rules-out") + 1] if "--rules-out" in rest else None
    if scrape:
        exported = scrape_series(scrape)
        families = {f: k for f, k in families.items() if f in exported or f + "_count" in exported}
    else:
        exported = series(families)
    problems, count = check_grafana(dashboard, exported, families, rules_out)
    for problem in problems:
        print(problem)
    if not problems:
        source = f"the scrape {scrape}" if scrape else f"the catalogue ({len(families)} metrics)"
        print(f"{count} expressions, every metric name exported ({source}), every exported metric charted")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
