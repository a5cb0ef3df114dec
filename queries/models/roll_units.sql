-- model: roll_units
-- returns: living newcomers per community they live in, managing unit and registration day (the day of their
--          first accepted registration; null = not registered)
-- grain: one row per community, unit and registration day
-- key: community_code, unit_id, first_day
-- reads: hot_residents, hot_first_registrations
-- materialized: append
-- incremental: add
select
    hot_residents.community_code,
    hot_residents.unit_id,
    hot_first_registrations.first_day,
    count(*) as newcomers
from hot_residents
left join hot_first_registrations using (person_key)
where hot_residents.newcomer
group by all

-- @incremental: a living newcomer with a new first registration moves from their old registration day
--   (null: not registered before) to the new one
select hot_residents.community_code, hot_residents.unit_id, replaced.first_day, -1 as newcomers
from new_hot_first_registrations as arrived
join hot_residents using (person_key)
left join old_hot_first_registrations as replaced using (person_key)
where hot_residents.newcomer
union all
select hot_residents.community_code, hot_residents.unit_id, arrived.first_day, 1 as newcomers
from new_hot_first_registrations as arrived
join hot_residents using (person_key)
where hot_residents.newcomer
