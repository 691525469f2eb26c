"""One module per `cdcctl` command, each with `run(args) -> exit code`; `cdcctl.__main__` dispatches."""
