-- The connector's login role, with the least Debezium needs: replication, connect, and SELECT on the
-- captured table (for the initial snapshot). Name from psql variable :cdc_user (cdc.database.user).
-- Its password is set by the operator, never in this repo:  ALTER ROLE <user> PASSWORD '...';
CREATE ROLE :"cdc_user" WITH LOGIN;
SELECT current_database() AS dbname, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') AS on_rds
\gset
\if :on_rds
  -- Aurora/RDS: the REPLICATION attribute is reserved; rds_replication grants it.
  GRANT rds_replication TO :"cdc_user";
\else
  ALTER ROLE :"cdc_user" WITH REPLICATION;
\endif
GRANT CONNECT ON DATABASE :"dbname" TO :"cdc_user";
GRANT USAGE ON SCHEMA public TO :"cdc_user";
GRANT SELECT ON business_events TO :"cdc_user";
