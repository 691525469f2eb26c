"""pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut], which also deselects the `engine`
tier): unit tests run before the tests marked `plans`. mutmut stops a mutant's run at its first failing
test (-x), so a mutant the unit tests kill is done in well under a second."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("plans") is not None)  # stable: file order within each
