-- model: roll_source_names
-- returns: every department (source) that has shared data
-- grain: one row per source
-- key: source
-- reads: hot_source_records
-- materialized: snapshot
select distinct source from hot_source_records
