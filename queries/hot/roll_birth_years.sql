-- table: roll_birth_years
-- returns: living newcomers per community they live in and birth year (null = unknown), for the age bands,
--          which depend on "now" (age in whole years = year of now − birth year); built with hot_newcomers,
--          ordered by community so that one community's rows are a few row groups
-- grain: one row per community and birth year
-- key: community_code, birth_year
select community_code, birth_year, count(*) as newcomers
from hot_newcomers
group by all
order by community_code, birth_year
