"""cdc-platform: load and validate settings and routes, then compose the stack's layer(s)."""

import pulumi

from core.config_node import ConfigError
from stacks.program import compose, load

try:
    settings, routes = load()
except ConfigError as error:
    # A one-line error naming file and key; nothing has been registered yet.
    raise pulumi.RunError(str(error)) from error

compose(settings, routes)
