"""The local engines `cdcctl` drives: Apache Flink (PyFlink, in its own virtualenv as a child process),
Debezium, a throw-away PostgreSQL. Nothing here imports Pulumi or the CLI."""
