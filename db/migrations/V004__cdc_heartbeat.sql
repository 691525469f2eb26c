-- The connector's heartbeat table (cdc.heartbeatIntervalMs, core/cdc_source.py): the connector writes
-- one row per replication slot on every heartbeat. The table is in the publication, so the write
-- reaches the connector and lets it confirm its position while business_events is quiet; it is
-- outside the connector's table.include.list, so no record of it reaches the raw topic or a route.
CREATE TABLE IF NOT EXISTS cdc_heartbeat (
    slot_name VARCHAR(63) PRIMARY KEY,         -- the connector's slot (cdc.slotName)
    beat_at   TIMESTAMP WITH TIME ZONE NOT NULL -- its last heartbeat: a stale one is a stalled connector
);
ALTER PUBLICATION :"publication" ADD TABLE cdc_heartbeat;
-- Write access to this table only (the connector reads, never writes, business_events).
GRANT SELECT, INSERT, UPDATE ON cdc_heartbeat TO :"cdc_user";
