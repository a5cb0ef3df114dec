-- model: hot_source_records
-- returns: which department's shared data names which person, in memory
-- grain: one row per record (no key is kept: the records of each new batch are added once)
-- key: -
-- reads: stg_source_records
-- materialized: append
-- incremental: insert
select source, pk(person_key) as person_key
from stg_source_records

-- @incremental: the records of the new batches
select source, pk(person_key) as person_key
from new_stg_source_records
