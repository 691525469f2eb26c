"""Offline-plan wall time: each stack of the repo, then synthetic route files of 100 and 1,000 routes.

Prints numbers; asserts nothing (targets: prod-east < 2 s, 1,000 routes < 15 s, linear growth).
Each measurement is a fresh `python -m cdcctl plan` process, as an operator would run it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod", "prod-east", "prod-west")


def timed_plan(stack: str, cwd: Path) -> tuple[float, int]:
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
    return elapsed, len(yaml.safe_load(result.stdout))


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


def main() -> None:
    print("offline plan wall time (fresh process, includes interpreter and SDK start-up)")
    for stack in STACKS:
        seconds, resources = timed_plan(stack, REPO)
        print(f"  stack {stack:<10} {resources:>6} resources  {seconds:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
            shutil.copy(REPO / name, project / name)
        baseline, _ = timed_plan("dev", REPO)
        rows = []
        for count in (100, 1000):
            (project / "routes.yaml").write_text(yaml.safe_dump(synthetic_routes(count)))
            stack_file = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
            stack_file["config"]["cdc-platform:routesFile"] = "routes.yaml"
            (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack_file))
            seconds, resources = timed_plan("dev", project)
            rows.append((count, seconds, resources))
            print(f"  dev with {count:>5} routes {resources:>6} resources  {seconds:6.2f} s")
        (n1, t1, _), (n2, t2, _) = rows
        per_route_small = (t1 - baseline) / n1 * 1000
        per_route_large = (t2 - baseline) / n2 * 1000
        print(
            f"  marginal cost per route: {per_route_small:.1f} ms at {n1}, {per_route_large:.1f} ms at {n2}"
            f" (ratio {per_route_large / per_route_small:.2f}; 1.0 = linear)"
        )


if __name__ == "__main__":
    main()
