"""Runs checkov on the given templates and compares what fails with
infra/checkov-skips: `python checkov_gate.py TEMPLATE...`. Exits non-zero
on a failed check not listed there, a listed check that no longer fails,
or a listed check that docs/operations.md does not mention.
"""

import json
import os
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPS = os.path.join(ROOT, "infra", "checkov-skips")
OPERATIONS = os.path.join(ROOT, "docs", "operations.md")


def listed_skips() -> dict[str, str]:
    skips = {}
    with open(SKIPS, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            check, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit(f"checkov_gate: {check} in infra/checkov-skips has no reason")
            skips[check] = reason.strip()
    return skips


def failures(templates: list[str]) -> dict[str, set[str]]:
    checkov = os.path.join(os.path.dirname(sys.executable), "checkov")
    command = [checkov, "--framework", "cloudformation", "--output", "json", "--quiet", "--compact"]
    for template in templates:
        command += ["--file", template]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        reports = json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit("checkov_gate: checkov gave no JSON report")
    if isinstance(reports, dict):
        reports = [reports]
    failed: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        if report.get("summary", {}).get("parsing_errors"):
            raise SystemExit(f"checkov_gate: checkov could not parse {report.get('summary')}")
        for check in report.get("results", {}).get("failed_checks", []):
            failed[check["check_id"]].add(check["resource"])
    return failed


def main(templates: list[str]) -> int:
    skips = listed_skips()
    failed = failures(templates)
    with open(OPERATIONS, encoding="utf-8") as doc:
        operations = doc.read()
    problems = []
    for check, resources in sorted(failed.items()):
        if check not in skips:
            problems.append(f"{check} fails and is not in infra/checkov-skips: {', '.join(sorted(resources))}")
    for check in sorted(skips):
        if check not in failed:
            problems.append(f"{check} is in infra/checkov-skips but no longer fails: remove it")
        if f"`{check}`" not in operations:
            problems.append(f"{check} is skipped but docs/operations.md does not explain it")
    for problem in problems:
        print(f"checkov_gate: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"checkov: no failed check beyond the {len(skips)} listed in infra/checkov-skips")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: checkov_gate.py TEMPLATE...")
    sys.exit(main(sys.argv[1:]))
