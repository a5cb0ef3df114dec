-- table: roll_birth_dates
-- returns: living newcomers per community they live in and birth date (null = unknown), for the age bands,
--          which depend on "now"; built with hot_newcomers, ordered by community so that one community's
--          rows are a few row groups
-- grain: one row per community and birth date
-- key: community_code, birth_date
select community_code, birth_date, count(*) as newcomers
from hot_newcomers
group by all
order by community_code, birth_date
