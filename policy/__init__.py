"""Policy pack of cdc-platform: rules as plain functions, run by `pulumi preview --policy-pack policy`
(see __main__.py) and against every offline plan in the tests."""
