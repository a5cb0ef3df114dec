-- table: hot_residents
-- returns: the current residents snapshot, slim, in memory: the columns the metric queries use, person_key as a
--          128-bit number (pk); reloaded only when the current residents batch changes
-- grain: one row per person in the current snapshot
-- key: person_key
select
    pk(person_key) as person_key,
    status,
    population_type,
    community_code,
    unit_id,
    cell_id,
    gender,
    birth_date,
    home_region,
    reason
from stg_residents
