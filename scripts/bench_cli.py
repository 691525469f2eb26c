"""Wall time of the plan-free commands on a large routes file: `cdcctl routes check` and `cdcctl sql`.

Prints numbers; asserts nothing (target: `sql --stack dev` with 5,000 routes < 5 s). Each measurement
is a fresh `python -m cdcctl` process in a temporary copy of the project, as an operator would run it.
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
sys.path.insert(0, str(REPO))

from scripts.bench_plan import synthetic_routes  # noqa: E402


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cdcctl", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    print("plan-free commands, wall time (fresh process)")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
            shutil.copy(REPO / name, project / name)
        for count in (1000, 5000):
            (project / "routes.yaml").write_text(yaml.safe_dump(synthetic_routes(count)))
            stack_file = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
            stack_file["config"]["cdc-platform:routesFile"] = "routes.yaml"
            # 5,000 routed topics x 3 partitions need a dedicated cluster's partition limit.
            stack_file["config"]["cdc-platform:kafka"] = {"type": "DEDICATED", "cku": 1}
            (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack_file))
            check = timed(["routes", "check", "routes.yaml"], project)
            sql = timed(["sql", "--stack", "dev"], project)
            print(f"  {count:>5} routes: routes check {check:5.2f} s   sql --stack dev {sql:5.2f} s")


if __name__ == "__main__":
    main()
