"""Per-module mutation scores from mutmut's results (`make mutation`).

mutmut 3 keeps one `mutants/<module>.meta` per mutated file, mapping each mutant to the exit code of its
test run. Score = killed / total: a mutant that survived, had no test, timed out or was otherwise not
killed counts against the module.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

# pyproject.toml [tool.mutmut] only_mutate, in the same order.
MODULES = (
    "flink_sql/compiler.py",
    "flink_sql/routes.py",
    "settings/parse.py",
    "settings/sections.py",
    "settings/link.py",
    "settings/aws.py",
    "policy/rules.py",
)
# mutmut's exit codes (mutmut/stats.py): 1 and 3 are kills, 0 a survivor, 33 and 5 "no tests",
# 36/-24/24/152/255 timeouts, None not run (yet); anything else (e.g. a segfault) is "other".
KILLED = {1, 3}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, -24, 24, 152, 255}


def status(exit_code: int | None) -> str:
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in NO_TESTS:
        return "no tests"
    if exit_code in TIMEOUT:
        return "timeout"
    if exit_code is None:
        return "not run"
    return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"), help="mutmut's work directory")
    parser.add_argument("--min", type=float, default=0.0, help="fail (exit 1) if a module scores below this %%")
    parser.add_argument("--list", action="store_true", help="also list every mutant that was not killed")
    args = parser.parse_args(argv)

    columns = ("killed", "survived", "no tests", "timeout", "not run", "other")
    print(f"{'module':<24}" + "".join(f"{c:>10}" for c in columns) + f"{'total':>8}{'score':>9}")
    below = []
    for module in MODULES:
        meta = args.mutants / f"{module}.meta"
        if not meta.is_file():
            print(f"{module:<24} no results ({meta} missing): run `mutmut run` first", file=sys.stderr)
            return 2
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(status(code) for code in exit_codes.values())
        total = len(exit_codes)
        score = 100.0 * counts["killed"] / total if total else 100.0
        print(f"{module:<24}" + "".join(f"{counts[c]:>10}" for c in columns) + f"{total:>8}{score:>8.1f}%")
        if args.list:
            for name, code in sorted(exit_codes.items()):
                if status(code) != "killed":
                    print(f"    {status(code):<9} {name}")
        if score < args.min:
            below.append(f"{module} {score:.1f}%")
    if below:
        print(f"below {args.min:g}%: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
