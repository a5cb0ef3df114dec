-- model: roll_discovered
-- returns: people the campaign discovered (registered, not among the living residents) per community of the
--          unit that took their first registration
-- grain: one row per community
-- key: community_code
-- reads: hot_first_registrations, hot_residents
-- materialized: append
-- incremental: add
select hot_first_registrations.community_code, count(*) as discovered
from hot_first_registrations
where not exists (
    select 1 from hot_residents where hot_residents.person_key = hot_first_registrations.person_key
)
group by all

-- @incremental: a discovered person whose first registration changed moves to the community of the new one
with living as materialized (
    select person_key
    from hot_residents
    where person_key in (select person_key from new_hot_first_registrations)
)

select replaced.community_code, -1 as discovered
from old_hot_first_registrations as replaced
where replaced.person_key not in (select person_key from living)
union all
select arrived.community_code, 1 as discovered
from new_hot_first_registrations as arrived
where arrived.person_key not in (select person_key from living)
