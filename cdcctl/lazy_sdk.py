"""pulumi's __init__ imports pulumi.automation and pulumi.dynamic (with dill), which no cdcctl command
planning offline uses: ~70 ms of each `cdcctl plan` process. Imported before pulumi (cdcctl/__init__.py),
this makes both load on first use instead; a process that imported pulumi already keeps it as it is."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import PathFinder
from typing import Any

DEFERRED = ("pulumi.automation", "pulumi.dynamic")


def load_on_first_use(name: str) -> None:
    """Put `name` in sys.modules unexecuted; the first attribute it lacks runs its code (import machinery
    reads only __spec__, __path__ and the like, which it has: importlib's LazyLoader would run it then)."""
    package = importlib.util.find_spec(name.rpartition(".")[0])  # found, not imported
    spec = PathFinder.find_spec(name, package.submodule_search_locations if package else None)
    if spec is None or spec.loader is None:
        return  # an SDK without it: nothing to defer
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def run(attribute: str) -> Any:
        del module.__dict__["__getattr__"]
        loader.exec_module(module)
        return getattr(module, attribute)

    module.__dict__["__getattr__"] = run
    sys.modules[name] = module


if "pulumi" not in sys.modules:
    for _name in DEFERRED:
        load_on_first_use(_name)
