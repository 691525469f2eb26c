"""cdcctl: the operator CLI of cdc-platform (plan, routes check, sql, rehearse, cost)."""

from cdcctl import lazy_sdk as _lazy_sdk  # noqa: F401 (before anything imports pulumi)
