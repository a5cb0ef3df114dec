-- table: hot_source_records
-- returns: which department's shared data names which person, in memory; the runner appends each new
--          accepted batch once ({{ batch }} = the files of the batches not read yet)
-- grain: one row per record
-- key: -
select cast(source as varchar) as source, pk(cast(person_key as varchar)) as person_key
from {{ batch }} as batch
