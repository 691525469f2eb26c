"""Rewrite tests/golden/<stack>.json from the offline plans: run it deliberately, when a change to the
infrastructure is meant to change what a stack registers or exports, and review the diff it makes."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cdcctl.plan import plan  # noqa: E402
from tests.helpers import GOLDEN, STACKS, golden_text  # noqa: E402


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for stack in STACKS:
        path = GOLDEN / f"{stack}.json"
        text = golden_text(plan(stack, REPO))
        changed = not path.is_file() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(REPO)}: {'rewritten' if changed else 'unchanged'}")


if __name__ == "__main__":
    main()
