"""Offline-plan wall time: each stack of the repo, then synthetic route files of 100 to 2,000 routes,
with the growth fitted as t = a + b*n + c*n^2 over all sizes (least squares).

Prints numbers; asserts nothing (targets: prod-east <= 1.2 s, 1,000 routes <= 8 s, linear growth: the
quadratic term's share of the 2,000-route time near zero). Each measurement is a fresh
`python -m cdcctl plan` process, as an operator would run it; besides its wall time, its CPU time (user
+ system), which a shared machine's neighbours do not inflate, and the load before the run. The fit is
over CPU times.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod", "prod-east", "prod-west")
SIZES = (100, 250, 500, 1000, 2000)


def timed_plan(stack: str, cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, resources) of one fresh `cdcctl plan` process."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cdcctl", "plan", "--stack", stack, "--json"],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return elapsed, cpu, len(yaml.safe_load(result.stdout))


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def synthetic_routes(count: int) -> dict[str, object]:
    """`count` routes, one consumer per ten routes, mixing operators and JSON-path conditions."""
    return {
        "routes": [
            {
                "id": f"route-{i}",
                "outputTopic": f"filtered-route-{i}",
                "consumer": f"consumer-{i // 10}",
                "operations": ["create", "update", "snapshot"],
                "match": "all" if i % 2 else "any",
                "conditions": [
                    {"field": "event_type", "operator": "equals", "value": f"Type{i}"},
                    {
                        "field": "event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount",
                        "operator": "greaterThan",
                        "value": i,
                    },
                ],
            }
            for i in range(count)
        ]
    }


def fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least-squares (a, b, c) of t = a + b*n + c*n^2 (normal equations, Cramer's rule)."""
    sums = [sum(n**k for n, _ in points) for k in range(5)]
    rhs = [sum(t * n**k for n, t in points) for k in range(3)]
    matrix = [[sums[i + j] for j in range(3)] for i in range(3)]

    def det(m: list[list[float]]) -> float:
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    whole = det(matrix)
    a, b, c = (
        det([[rhs[i] if j == k else matrix[i][j] for j in range(3)] for i in range(3)]) / whole for k in range(3)
    )
    return a, b, c


def main() -> None:
    print("offline plan, fresh process (interpreter and SDK start-up included): wall, CPU, load before")
    for stack in STACKS:
        before = load()
        seconds, cpu, resources = timed_plan(stack, REPO)
        print(f"  stack {stack:<10} {resources:>6} resources  {seconds:6.2f} s  cpu {cpu:6.2f} s  load {before}")
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
            shutil.copy(REPO / name, project / name)
        stack_file = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
        stack_file["config"]["cdc-platform:routesFile"] = "routes.yaml"
        # Thousands of routed topics need a dedicated cluster's partition limit (a STANDARD one: 4,096).
        stack_file["config"]["cdc-platform:kafka"] = {"type": "DEDICATED", "cku": 1}
        (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack_file))
        for count in SIZES:
            (project / "routes.yaml").write_text(yaml.safe_dump(synthetic_routes(count)))
            before = load()
            seconds, cpu, resources = timed_plan("dev", project)
            points.append((count, cpu))
            timing = f"{seconds:6.2f} s  cpu {cpu:6.2f} s  load {before}"
            print(f"  dev with {count:>5} routes {resources:>6} resources  {timing}")
    a, b, c = fit(points)
    largest = SIZES[-1]
    print(
        f"  fit (CPU): t = {a:.2f} s + {b * 1000:.2f} ms*n + {c * 1e6:.3f} us*n^2"
        f"  (at {largest} routes the n^2 term is {c * largest**2:.2f} s of {a + b * largest + c * largest**2:.2f} s)"
    )


if __name__ == "__main__":
    main()
