-- The publication the connector reads (publication.autocreate.mode=disabled: the replication role
-- needs no CREATE privilege). Name from psql variable :publication (cdc.publicationName).
CREATE PUBLICATION :"publication" FOR TABLE business_events;
