-- table: hot_registrations
-- returns: accepted 一家亲 scans, slim, in memory, with the community of the scanning unit; new increment
--          batches are appended ($batches), earlier ones are never read again
-- grain: one row per scan
-- key: scan_id
select
    pk(stg_registrations.person_key) as person_key,
    stg_registrations.scanned_at,
    stg_registrations.unit_id,
    stg_registrations.channel,
    stg_registrations.site,
    stg_units.community_code
from stg_registrations
left join stg_units using (unit_id)
where stg_registrations.batch_id in (select unnest($batches))
