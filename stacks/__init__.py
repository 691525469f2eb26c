"""Composition of the infra components into the global and region layers (`program` is the entry
point `__main__.py` runs). Importing the package loads nothing: `routes_fit` and `access_policy` are
pure and read without Pulumi."""
