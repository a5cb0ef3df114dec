-- model: hot_registrations
-- returns: accepted 一家亲 scans, slim, in memory, with the community of the scanning unit
-- grain: one row per scan (no key is kept: the scans of each new batch are added once)
-- key: -
-- reads: stg_registrations, hot_units
-- materialized: append
-- incremental: insert
select
    pk(scans.person_key) as person_key,
    scans.scanned_at,
    scans.unit_id,
    scans.channel,
    scans.site,
    hot_units.community_code
from stg_registrations as scans
left join hot_units on hot_units.unit_id = scans.unit_id

-- @incremental: the scans of the new batches
select
    pk(scans.person_key) as person_key,
    scans.scanned_at,
    scans.unit_id,
    scans.channel,
    scans.site,
    hot_units.community_code
from new_stg_registrations as scans
left join hot_units on hot_units.unit_id = scans.unit_id
