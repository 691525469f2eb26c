"""cdcctl defers pulumi.automation and pulumi.dynamic (cdcctl/lazy_sdk.py): not loaded by a plan, whole
on first use."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO

_CHECK = """
import sys
from cdcctl.plan import plan
plan("dev")
assert "pulumi.automation._cmd" not in sys.modules and "dill" not in sys.modules, "loaded by a plan"
import pulumi
from pulumi.automation import LocalWorkspace
assert pulumi.automation.LocalWorkspace is LocalWorkspace
assert pulumi.dynamic.ResourceProvider.__module__ == "pulumi.dynamic.dynamic" and "dill" in sys.modules
"""


def test_a_plan_loads_neither_automation_nor_dynamic_and_both_work_on_first_use() -> None:
    result = subprocess.run([sys.executable, "-c", _CHECK], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
