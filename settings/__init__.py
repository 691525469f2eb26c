"""The stack settings: the typed model (`model`), its parsing per section (`parse`, `sections`, `link`,
`aws`) and, apart, the bridge from a running Pulumi program's config (`pulumi_config`). Pure Python
below the bridge: nothing here imports Pulumi, infra or stacks."""
