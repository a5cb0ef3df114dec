-- model: roll_cells
-- returns: living residents and newcomers per community and map cell (null cell: no position)
-- grain: one row per community and cell
-- key: community_code, cell_id
-- reads: hot_residents
-- materialized: snapshot
select
    community_code,
    cell_id,
    count(*) as residents,
    count(*) filter (where newcomer) as newcomers
from hot_residents
group by all
