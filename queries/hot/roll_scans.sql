-- table: roll_scans
-- returns: registration scans per community of the scanning unit, day, weekday, hour and channel; new scans
--          are appended as their own rows (queries sum), so a new batch costs only its own rows
-- grain: one row per community, day, hour and channel (per load: rows may repeat; sum them)
-- key: -
select
    community_code,
    cast(scanned_at as date) as day,
    cast(isodow(scanned_at) as integer) as weekday,
    cast(hour(scanned_at) as integer) as hour,
    channel,
    count(*) as scans
from {{ scans }}
group by all
