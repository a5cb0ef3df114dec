-- table: hot_registrations
-- returns: accepted 一家亲 scans, slim, in memory, with the community of the scanning unit; the runner appends
--          each new accepted increment batch once ({{ batch }} = the files of the batches not read yet)
-- grain: one row per scan
-- key: scan_id
select
    pk(cast(batch.person_key as varchar)) as person_key,
    cast(batch.scanned_at as timestamp) as scanned_at,
    cast(batch.unit_id as varchar) as unit_id,
    cast(batch.channel as varchar) as channel,
    cast(batch.site as varchar) as site,
    hot_units.community_code
from {{ batch }} as batch
left join hot_units on hot_units.unit_id = batch.unit_id
