"""Key rotation without downtime, one rule for every key kind (consumers', the link's, the metrics
principal's; the Flink deployer's follows its statement generations, infra.flink): a new generation
declares the new key, the old one is kept for one more `up` so running clients reconnect with the
new one, and is dropped after (Pulumi deletes it). The stack exports which generations are live
(`keyGenerations`), and its next deployment reads that back.

The order the providers need (README "Credentials"):
- within one `up`, Pulumi creates new resources and updates changed ones first and deletes the ones
  no longer declared at the very end, in reverse dependency order (pulumi/pulumi#9979; after a failed
  `up`, pending deletions run first on the next one): so even there a key is deleted only after what
  referenced it (a secret version, a statement) moved or went first; keeping the old key for one more
  `up` means no `up` both moves a reference and deletes the key it left;
- across stacks, a key one stack owns and another presents (this region's link key, in the peer's
  half of the cluster link) must outlive that use: it is `held` until the peer's export says its half
  declares the new one, and the link presents it only once its config is altered
  (infra/cluster_link.py);
- a Flink deployer key goes with the statement submitted with it: the stopped predecessor is deleted
  before its key (it depends on it), by the `up` after the carry-over (infra/flink.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

LINK = "link"  # the key the peer's half of the cluster link presents to this cluster
METRICS = "metrics"  # Prometheus' Metrics API key


def consumer_kind(consumer: str) -> str:
    return f"consumer:{consumer}"


def previous_generations(exported: Mapping[str, Any] | None, kind: str) -> tuple[int, ...]:
    """What the last deployment's `keyGenerations` export says of one kind (none: first deployment)."""
    return tuple(int(g) for g in (exported or {}).get(kind) or ())


def live_generations(previous: Sequence[int], current: int, held: Collection[int] = ()) -> tuple[int, ...]:
    """The generations to declare, oldest first, `current` last: the one the last deployment used (if
    not `current`: kept for one more `up`) and any older one still `held` where this stack cannot move
    it (the peer's half of a link presents it); anything else is dropped."""
    if not previous:
        return (current,)
    kept = {g for g in previous if g in held} | {previous[-1]}
    kept.discard(current)
    return (*sorted(kept), current)
