-- model: roll_composition
-- returns: living newcomers per community they live in and category of 来源地, 原因 and 性别 (the dimensions that
--          do not move with the clock; the age bands come from roll_birth_years)
-- grain: one row per community, dimension and category
-- key: community_code, dimension_order, dimension, category
-- reads: hot_newcomers
-- materialized: append
-- incremental: add
select community_code, 1 as dimension_order, '来源地' as dimension, origin as category, count(*) as newcomers
from hot_newcomers
group by all
union all
select community_code, 2, '原因', coalesce(reason, '未填写'), count(*)
from hot_newcomers
group by all
union all
select community_code, 4, '性别', coalesce(gender, '未知'), count(*)
from hot_newcomers
group by all

-- @incremental: rows of hot_newcomers replaced (a registered flag set) counted out, their new rows in
with people as (
    select community_code, origin, reason, gender, -1 as newcomers from old_hot_newcomers
    union all
    select community_code, origin, reason, gender, 1 from new_hot_newcomers
)

select community_code, 1 as dimension_order, '来源地' as dimension, origin as category, sum(newcomers) as newcomers
from people
group by all
union all
select community_code, 2, '原因', coalesce(reason, '未填写'), sum(newcomers)
from people
group by all
union all
select community_code, 4, '性别', coalesce(gender, '未知'), sum(newcomers)
from people
group by all
