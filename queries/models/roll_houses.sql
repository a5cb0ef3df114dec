-- model: roll_houses
-- returns: rental houses (出租) and those archived (已建档 or 已复核) per community
-- grain: one row per community
-- key: community_code
-- reads: stg_houses
-- materialized: snapshot
select
    community_code,
    count(*) filter (where house_type = '出租') as rentals,
    count(*) filter (where house_type = '出租' and archive_status in ('已建档', '已复核')) as rentals_archived
from stg_houses
group by all
