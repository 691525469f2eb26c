"""cdcctl: the operator CLI of cdc-platform (plan, routes check, sql, rehearse, cost)."""
