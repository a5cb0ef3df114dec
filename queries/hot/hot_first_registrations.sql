-- table: hot_first_registrations
-- returns: person-level registration flags: the first accepted scan of every registered person and the
--          community of the unit that took it; rebuilt from hot_registrations when registrations change
-- grain: one row per registered person
-- key: person_key
select
    person_key,
    min(scanned_at) as first_scanned_at,
    cast(min(scanned_at) as date) as first_day,
    arg_min(community_code, scanned_at) as community_code
from hot_registrations
group by person_key
