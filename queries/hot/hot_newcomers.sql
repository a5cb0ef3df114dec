-- table: hot_newcomers
-- returns: the living newcomers (在住, 流动人口) with what the composition needs; reloaded with the snapshot
-- grain: one row per living newcomer
-- key: person_key
select community_code, gender, birth_date, home_region, reason
from stg_residents
where status = '在住' and population_type = '流动人口'
