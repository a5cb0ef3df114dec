-- model: roll_birth_years
-- returns: living newcomers per community they live in and birth year (null = unknown), for the age bands,
--          which depend on "now" (age in whole years = year of now − birth year); ordered by community so that
--          one community's rows are a few row groups
-- grain: one row per community and birth year
-- key: community_code, birth_year
-- reads: hot_newcomers
-- materialized: append
-- incremental: add
select community_code, birth_year, count(*) as newcomers
from hot_newcomers
group by all
order by community_code, birth_year

-- @incremental: rows of hot_newcomers replaced (a registered flag set) counted out, their new rows in
select community_code, birth_year, -1 as newcomers from old_hot_newcomers
union all
select community_code, birth_year, 1 as newcomers from new_hot_newcomers
