-- model: roll_scans
-- returns: registration scans per community of the scanning unit, day, weekday, hour and channel; the new
--          scans' counts are added as their own rows (queries sum), so a new batch costs only its own rows
-- grain: one row per community, day, hour and channel (rows may repeat across batches: sum them)
-- key: -
-- reads: hot_registrations
-- materialized: append
-- incremental: insert
select
    community_code,
    cast(scanned_at as date) as day,
    cast(isodow(scanned_at) as integer) as weekday,
    cast(hour(scanned_at) as integer) as hour,
    channel,
    count(*) as scans
from hot_registrations
group by all

-- @incremental: the new scans' counts
select
    community_code,
    cast(scanned_at as date) as day,
    cast(isodow(scanned_at) as integer) as weekday,
    cast(hour(scanned_at) as integer) as hour,
    channel,
    count(*) as scans
from new_hot_registrations
group by all
