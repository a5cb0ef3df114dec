-- view: stg_houses
-- returns: the current houses snapshot (实有房屋, 一户一档)
-- grain: one row per house in the current snapshot
-- key: house_id
with source as (
    select * from {{ houses }}
),

current_batch as (
    select batch_id from stg_manifest where feed = 'houses' and is_current
),

final as (
    select
        cast(batch_id as varchar) as batch_id,
        cast(house_id as varchar) as house_id,
        cast(community_code as varchar) as community_code,
        cast(estate as varchar) as estate,
        cast(address as varchar) as address,
        cast(lat as double) as lat,
        cast(lon as double) as lon,
        cast(cell_id as bigint) as cell_id,
        cast(house_type as varchar) as house_type,
        cast(archive_status as varchar) as archive_status,
        cast(occupants as bigint) as occupants,
        cast(surveyed_at as date) as surveyed_at
    from source
    where batch_id in (select batch_id from current_batch)
)

select * from final
