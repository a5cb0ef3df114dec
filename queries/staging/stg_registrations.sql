-- view: stg_registrations
-- returns: every accepted 一家亲 registration scan
-- grain: one row per scan
-- key: scan_id
with source as (
    select * from {{ registrations }}
),

accepted_batches as (
    select batch_id from stg_manifest where feed = 'registrations' and is_current
),

final as (
    select
        cast(batch_id as varchar) as batch_id,
        cast(scan_id as varchar) as scan_id,
        cast(scanned_at as timestamp) as scanned_at,
        cast(person_key as varchar) as person_key,
        cast(unit_id as varchar) as unit_id,
        cast(channel as varchar) as channel,
        cast(site as varchar) as site
    from source
    where batch_id in (select batch_id from accepted_batches)
)

select * from final
