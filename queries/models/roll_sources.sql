-- model: roll_sources
-- returns: living newcomers matched by each department's shared data, per community they live in
-- grain: one row per community and source
-- key: community_code, source
-- reads: hot_source_records, hot_residents
-- materialized: snapshot
with people as (
    select distinct source, person_key from hot_source_records
)

select hot_residents.community_code, people.source, count(*) as newcomers_matched
from hot_residents
join people using (person_key)
where hot_residents.newcomer
group by all
