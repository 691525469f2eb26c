"""Principals and least-privilege grants, declared as data and turned into role bindings here only.

A principal says what it does ("reads topic X, writes topic Y, groups Z*"); `Principal` (global layer)
binds its environment- and organization-scoped roles, `ClusterAccess` (region layer) binds the
topic/group/transactional-id/subject roles on one cluster and its Schema Registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, Self

import pulumi
import pulumi_confluentcloud as confluent

from core import naming
from core.grants import Grants
from core.naming import COMPONENT
from core.region_exports import ConsumerCredentials


class CrossStackRef:
    """A reference one stack exports and another reads back: a mapping with camelCase keys."""

    def to_export(self) -> dict[str, Any]:
        return {naming.camel_case(f.name): getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_export(cls, exported: pulumi.Output[Any]) -> Self:
        return cls(**{f.name: exported[naming.camel_case(f.name)] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass
class PrincipalRef(CrossStackRef):
    """Enough of a service account to own API keys and receive role bindings."""

    id: pulumi.Input[str]
    api_version: pulumi.Input[str]
    kind: pulumi.Input[str]

    @property
    def principal(self) -> pulumi.Output[str]:
        return pulumi.Output.concat("User:", self.id)


class KeyTarget(Protocol):
    """Anything an API key can open (Confluent's id / api_version / kind triple)."""

    @property
    def id(self) -> pulumi.Input[str]: ...
    @property
    def api_version(self) -> pulumi.Input[str]: ...
    @property
    def kind(self) -> pulumi.Input[str]: ...


@dataclass
class RegistryRef(CrossStackRef):
    """The environment's Schema Registry: where subjects live and what an API key opens."""

    id: pulumi.Input[str]
    crn: pulumi.Input[str]
    rest_endpoint: pulumi.Input[str]
    api_version: pulumi.Input[str]
    kind: pulumi.Input[str]


@dataclass
class PrincipalArgs:
    display_name: pulumi.Input[str]
    grants: Grants
    environment_crn: pulumi.Input[str]
    organization_crn: pulumi.Input[str]
    schema_registry_crn: pulumi.Input[str]
    # Ids of the principals named in grants.may_assign.
    assignable: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # Prod: the account outlives a mistaken delete (its keys and role bindings hang off it).
    protect: bool = False


def subject_crn(registry_crn: pulumi.Output[str], subject: str) -> pulumi.Output[str]:
    """CRN pattern of one Schema Registry subject."""
    return registry_crn.apply(lambda crn: f"{crn}/subject={subject}")


class Principal(pulumi.ComponentResource):
    """An org-level service account plus its environment/organization/registry-scoped role bindings."""

    def __init__(self, name: str, args: PrincipalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:Principal", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = confluent.ServiceAccount(
            f"{name}-sa",
            display_name=args.display_name,
            description=args.grants.description,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.ref = PrincipalRef(self.account.id, self.account.api_version, self.account.kind)
        principal = self.ref.principal  # built once: one binding per grant follows

        def bind(suffix: str, role: str, crn: pulumi.Input[str]) -> confluent.RoleBinding:
            return confluent.RoleBinding(
                f"{name}-{suffix}", principal=principal, role_name=role, crn_pattern=crn, opts=child
            )

        if args.grants.flink_developer:
            bind("flink-developer", "FlinkDeveloper", args.environment_crn)
        if args.grants.metrics_viewer:
            # The environment is the least scope covering all a region exports: its cluster, connector
            # and compute pool (a cluster binding would not cover the pool, an environment-level object).
            bind("metrics-viewer", "MetricsViewer", args.environment_crn)
        for target in args.grants.may_assign:
            crn = pulumi.Output.concat(args.organization_crn, "/service-account=", args.assignable[target])
            bind(f"assigner-{target}", "Assigner", crn)
        # Subjects live in the environment's registry, shared by every region: owned here, once.
        registry_crn = pulumi.Output.from_input(args.schema_registry_crn)
        self.owned_subjects = {
            owned: bind(f"own-subject-{owned}", "ResourceOwner", subject_crn(registry_crn, owned))
            for owned in args.grants.owned_subjects
        }
        self.register_outputs({"id": self.account.id})


@dataclass
class ClusterAccessArgs:
    principal: PrincipalRef
    grants: Grants
    cluster: confluent.KafkaCluster
    environment_id: pulumi.Input[str]
    schema_registry: RegistryRef


class ClusterAccess(pulumi.ComponentResource):
    """One principal's role bindings on one Kafka cluster and its Schema Registry; API keys on request,
    each created after those bindings."""

    def __init__(self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:ClusterAccess", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        self.bindings: list[confluent.RoleBinding] = []
        cluster = args.cluster
        # Built once: a principal may hold thousands of bindings (one per routed topic).
        principal = args.principal.principal
        in_cluster = pulumi.Output.concat(cluster.rbac_crn, "/kafka=", cluster.id)
        in_registry = pulumi.Output.from_input(args.schema_registry.crn)

        def bind(suffix: str, role: pulumi.Input[str], crn: pulumi.Input[str]) -> None:
            self.bindings.append(
                confluent.RoleBinding(
                    f"{name}-{suffix}", principal=principal, role_name=role, crn_pattern=crn, opts=child
                )
            )

        def on_cluster(kind: str, resource: str) -> pulumi.Output[str]:
            return in_cluster.apply(lambda crn: f"{crn}/{kind}={resource}")

        for binding in args.grants.cluster_bindings():
            if binding.kind is None:
                bind(binding.name, binding.role, cluster.rbac_crn)
            elif binding.kind == "subject":
                bind(binding.name, binding.role, subject_crn(in_registry, binding.resource))
            else:
                bind(binding.name, binding.role, on_cluster(binding.kind, binding.resource))
        self.register_outputs({})

    def kafka_keys(self, display_name: pulumi.Input[str], waits_for: Sequence[pulumi.Resource] = ()) -> KeyRing:
        """The principal's API keys for this Kafka cluster, by generation. `waits_for`: what must exist
        before a key can reach the cluster (over PrivateLink: the endpoint and its DNS records)."""
        return self._key_ring("key", self._args.cluster, display_name, waits_for)

    def registry_keys(self, display_name: pulumi.Input[str], waits_for: Sequence[pulumi.Resource] = ()) -> KeyRing:
        """The principal's Schema Registry keys: registry formats need one to read its topics' schemas."""
        return self._key_ring("registry-key", self._args.schema_registry, display_name, waits_for)

    def _key_ring(
        self, suffix: str, opens: KeyTarget, display_name: pulumi.Input[str], waits_for: Sequence[pulumi.Resource]
    ) -> KeyRing:
        args = self._args
        return KeyRing(
            f"{self._name}-{suffix}",
            display_name,
            lambda name, display: api_key(
                name, ApiKeyArgs(display, args.principal, opens, args.environment_id), self._after_grants(waits_for)
            ),
        )

    def kafka_key(self, display_name: pulumi.Input[str], waits_for: Sequence[pulumi.Resource] = ()) -> confluent.ApiKey:
        """The principal's one Kafka key (generation 1): a key nothing rotates."""
        return self.kafka_keys(display_name, waits_for).key(1)

    def registry_key(
        self, display_name: pulumi.Input[str], waits_for: Sequence[pulumi.Resource] = ()
    ) -> confluent.ApiKey:
        """The principal's one Schema Registry key (generation 1)."""
        return self.registry_keys(display_name, waits_for).key(1)

    def consumer_credentials(
        self,
        display_name: pulumi.Input[str],
        live: pulumi.Input[Sequence[int]],
        waits_for: Sequence[pulumi.Resource] = (),
    ) -> ConsumerCredentials[pulumi.Output[str]]:
        """A consumer app's keys of the current generation (the `live` ones are declared): it authenticates
        to the cluster and to the registry (whose formats it reads its topics' schemas with); the
        connector and Flink run as the account itself."""
        kafka = self.kafka_keys(display_name, waits_for).current(live)
        registry = self.registry_keys(pulumi.Output.concat(display_name, "-registry"), waits_for).current(live)
        return ConsumerCredentials(
            kafka.apply(lambda k: k.id),
            pulumi.Output.secret(kafka.apply(lambda k: k.secret)),
            registry.apply(lambda k: k.id),
            pulumi.Output.secret(registry.apply(lambda k: k.secret)),
        )

    def _after_grants(self, waits_for: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        # A key used before its role bindings have propagated gets 403s.
        return pulumi.ResourceOptions(parent=self, depends_on=[*self.bindings, *waits_for])


class KeyRing:
    """One principal's API keys of one kind, by generation: the one piece every rotation declares its
    keys with (consumers', the link's, the metrics principal's, the Flink deployer's). Generation 1 keeps
    the unsuffixed name, so a stack that never rotated keeps its original key; generation n adds `-gn`
    to the resource and display names."""

    def __init__(
        self,
        name: str,
        display_name: pulumi.Input[str],
        make: Callable[[str, pulumi.Output[str]], confluent.ApiKey],
    ) -> None:
        self._name = name
        self._display_name = display_name
        self._make = make
        self._keys: dict[int, confluent.ApiKey] = {}

    def key(self, generation: int) -> confluent.ApiKey:
        """The key of `generation`, declared once, on first use."""
        if generation not in self._keys:
            suffix = "" if generation == 1 else f"-g{generation}"
            self._keys[generation] = self._make(
                f"{self._name}{suffix}", pulumi.Output.concat(self._display_name, suffix)
            )
        return self._keys[generation]

    def current(self, live: pulumi.Input[Sequence[int]]) -> pulumi.Output[confluent.ApiKey]:
        """Declares every live generation (core.rotation.live_generations: current last) and yields the
        current key. Which ones are live depends on the last deployment's export, read in preview too."""

        def declare(generations: Sequence[int]) -> confluent.ApiKey:
            keys = [self.key(g) for g in generations]
            return keys[-1]

        return pulumi.Output.from_input(live).apply(declare)


@dataclass
class ApiKeyArgs:
    display_name: pulumi.Input[str]
    owner: PrincipalRef
    resource: KeyTarget  # what the key opens: a Kafka cluster, the Schema Registry or a Flink region
    environment_id: pulumi.Input[str]


def api_key(name: str, args: ApiKeyArgs, opts: pulumi.ResourceOptions) -> confluent.ApiKey:
    """An API key owned by a service account; its secret is a Pulumi secret output (provider-marked)."""
    return confluent.ApiKey(
        name,
        display_name=args.display_name,
        description="Managed by Pulumi (cdc-platform)",
        owner=confluent.ApiKeyOwnerArgs(id=args.owner.id, api_version=args.owner.api_version, kind=args.owner.kind),
        managed_resource=confluent.ApiKeyManagedResourceArgs(
            id=args.resource.id,
            api_version=args.resource.api_version,
            kind=args.resource.kind,
            environment=confluent.ApiKeyManagedResourceEnvironmentArgs(id=args.environment_id),
        ),
        opts=opts,
    )


def cloud_api_key(
    name: str, display_name: pulumi.Input[str], owner: PrincipalRef, opts: pulumi.ResourceOptions | None = None
) -> confluent.ApiKey:
    """A Cloud API key (no managed resource) owned by a service account: what the Metrics API accepts
    (cluster keys fail there). Its secret is a Pulumi secret output (provider-marked)."""
    return confluent.ApiKey(
        name,
        display_name=display_name,
        description="Managed by Pulumi (cdc-platform)",
        owner=confluent.ApiKeyOwnerArgs(id=owner.id, api_version=owner.api_version, kind=owner.kind),
        opts=opts,
    )
