-- The CDC source table (seed cdc-architecture): flat columns for filtering + the full event as JSONB.
CREATE TABLE IF NOT EXISTS business_events (
    id           VARCHAR(255) PRIMARY KEY,      -- eventHeader.uuid
    event_name   VARCHAR(255) NOT NULL,         -- eventHeader.eventName
    event_type   VARCHAR(255),                  -- eventHeader.eventType
    created_date TIMESTAMP WITH TIME ZONE,      -- eventHeader.createdDate
    saved_date   TIMESTAMP WITH TIME ZONE,      -- eventHeader.savedDate
    event_data   JSONB NOT NULL                 -- eventHeader + eventBody
);

CREATE INDEX IF NOT EXISTS idx_business_events_event_type ON business_events (event_type);
CREATE INDEX IF NOT EXISTS idx_business_events_created_date ON business_events (created_date);

-- Deletes must carry the whole old row: routes test event_type and event_data on delete records too
-- (the default identity would leave every non-key column NULL in them).
ALTER TABLE business_events REPLICA IDENTITY FULL;
