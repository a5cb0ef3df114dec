-- model: hot_manifest
-- returns: every processed inbox file with whether its batch counts and is current (stg_manifest), in memory
-- grain: one row per batch
-- key: batch_id
-- reads: stg_manifest
-- materialized: snapshot
select * from stg_manifest
