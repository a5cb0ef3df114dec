-- model: hot_residents
-- returns: the living (在住) residents of the current snapshot, slim, in memory: person_key as a 128-bit number,
--          where they live and who manages them
-- grain: one row per living person in the current snapshot
-- key: person_key
-- reads: stg_residents
-- materialized: snapshot
select
    pk(person_key) as person_key,
    population_type = '流动人口' as newcomer,
    community_code,
    unit_id,
    cell_id
from stg_residents
where status = '在住'
