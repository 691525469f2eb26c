"""The program: settings and routes loaded and checked together, then the stack's layer(s) composed."""

from __future__ import annotations

import pulumi

from flink_sql.routes import Route, load_routes
from settings.model import (
    AllInOneStackSettings,
    GlobalStackSettings,
    RegionStackSettings,
    Settings,
)
from settings.pulumi_config import load_settings
from stacks.global_layer import GlobalExports, global_layer
from stacks.region_layer import RegionLayer, region_principal_names
from stacks.routes_fit import check_routes_fit_settings


def load() -> tuple[Settings, tuple[Route, ...]]:
    """Settings and routes, validated together, before any resource is registered."""
    settings = load_settings()
    # Relative to the project directory, which is the working directory Pulumi runs programs in.
    routes = load_routes(settings.routes_file)
    check_routes_fit_settings(settings, routes)
    return settings, routes


def compose(settings: Settings, routes: tuple[Route, ...]) -> None:
    """Build the stack's layer(s): global, region (reading the global stack), or both in one stack."""
    match settings:
        case GlobalStackSettings():
            global_layer(settings, routes).export()
        case RegionStackSettings():
            names = region_principal_names(settings, routes)
            exports = GlobalExports.from_stack(settings.global_stack, names)
            # The peer region stack must exist (`pulumi stack init`, even before its first `up`).
            peer = pulumi.StackReference("link-peer", stack_name=settings.link.peer_stack) if settings.link else None
            RegionLayer(settings, routes, exports, previous_deployment(), peer).export()
        case AllInOneStackSettings():
            exports = global_layer(settings, routes)
            exports.export()
            RegionLayer(settings, routes, exports, previous_deployment()).export()


def previous_deployment() -> pulumi.StackReference:
    """This stack's own last outputs: what the routing statement was, to replace it safely."""
    self_name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return pulumi.StackReference("previous-deployment", stack_name=self_name)


__all__ = ["compose", "load"]
