-- table: roll_source_names
-- returns: every department (source) that has shared data
-- grain: one row per source
-- key: source
select distinct source from hot_source_records
