-- table: hot_houses
-- returns: the current houses snapshot, slim, in memory; reloaded only when the current houses batch changes
-- grain: one row per house in the current snapshot
-- key: house_id
select house_id, community_code, house_type, archive_status
from stg_houses
