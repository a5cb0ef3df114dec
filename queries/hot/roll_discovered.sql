-- table: roll_discovered
-- returns: people the campaign discovered (registered, not among the living residents) per community of the
--          unit that took their first registration
-- grain: one row per community
-- key: community_code
select hot_first_registrations.community_code, count(*) as discovered
from hot_first_registrations
where not exists (
    select 1 from hot_residents where hot_residents.person_key = hot_first_registrations.person_key
)
group by all
