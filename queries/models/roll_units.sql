-- model: roll_units
-- returns: living newcomers per community they live in, managing unit and registration day (the day of their
--          first accepted registration; null = not registered)
-- grain: one row per community, unit and registration day
-- key: community_code, unit_id, first_day
-- reads: hot_newcomers
-- materialized: append
-- incremental: add
select community_code, unit_id, first_day, count(*) as newcomers
from hot_newcomers
group by all

-- @incremental: a newcomer whose first registration changed moves from the old day (null: none) to the new one
select community_code, unit_id, first_day, -1 as newcomers from old_hot_newcomers
union all
select community_code, unit_id, first_day, 1 as newcomers from new_hot_newcomers
