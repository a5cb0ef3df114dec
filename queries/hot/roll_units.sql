-- table: roll_units
-- returns: living newcomers per community they live in, managing unit and registration day (the day of their
--          first accepted registration; null = not registered); kept up to date as registrations arrive
-- grain: one row per community, unit and registration day
-- key: community_code, unit_id, first_day
select
    hot_residents.community_code,
    hot_residents.unit_id,
    hot_first_registrations.first_day,
    count(*) as newcomers
from hot_residents
left join hot_first_registrations using (person_key)
where hot_residents.newcomer
group by all
