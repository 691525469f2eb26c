"""What one principal may do, as data: the access policy (stacks/access_policy.py) writes it, the
infra.access components turn it into role bindings. Pure Python, so the policy is read without Pulumi
(`cdcctl routes check --stack` needs the principals' names only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Grants:
    """What one principal may do. A topic grant includes the topic's value subject, and its key
    subject for `keyed_topics` (topics whose keys are registry-serialized: the CDC and routed topics)."""

    description: str
    read_topics: tuple[str, ...] = ()
    write_topics: tuple[str, ...] = ()
    keyed_topics: tuple[str, ...] = ()
    owned_subjects: tuple[str, ...] = ()  # deployer only: registers these subjects' schemas (env scope)
    group_prefixes: tuple[str, ...] = ()
    transactional_id_prefixes: tuple[str, ...] = ()
    cluster_admin: bool = False  # deployer principals only: CloudClusterAdmin on one cluster
    flink_developer: bool = False  # environment scope: may submit Flink statements
    may_assign: tuple[str, ...] = ()  # principals whose identity this one may run statements as
    metrics_viewer: bool = False  # environment scope: may read the Metrics API for its resources
    # A writer that registers its topics' value schemas (the connector) holds DeveloperWrite on their
    # subjects; one writing under schemas declared elsewhere only reads them (Flink statements: CC
    # flink/operate-and-deploy/flink-rbac, "DeveloperRead on the Schema Registry subject, to validate").
    registers_schemas: bool = True
    # A cluster link's credential on its source cluster (CC multi-cloud/cluster-linking/security-cloud):
    # DeveloperRead + DeveloperManage on the topics it mirrors (no subjects: mirrors copy bytes),
    # DeveloperRead on the groups whose offsets it syncs (group_prefixes), and Operator on the cluster,
    # which bidirectional links require.
    mirrored_topics: tuple[str, ...] = ()
    cluster_operator: bool = False
    # The peer's topics mirrored on this cluster that a consumer may read: the topic only (a mirror's
    # records carry the schema ids of the source subjects, which read_topics already grants).
    read_mirrors: tuple[str, ...] = ()

    @property
    def cluster_scoped(self) -> bool:
        return bool(
            self.read_topics
            or self.write_topics
            or self.group_prefixes
            or self.transactional_id_prefixes
            or self.cluster_admin
            or self.mirrored_topics
            or self.cluster_operator
            or self.read_mirrors
        )
