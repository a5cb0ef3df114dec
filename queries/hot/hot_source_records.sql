-- table: hot_source_records
-- returns: which department's shared data names which person, in memory; new batches are appended ($batches)
-- grain: one row per record
-- key: -
select source, pk(person_key) as person_key
from stg_source_records
where batch_id in (select unnest($batches))
