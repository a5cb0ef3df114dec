-- view: stg_units
-- returns: the management units of the newcomer work, administrators masked
-- grain: one row per unit
-- key: unit_id
with source as (
    select * from {{ ref_units }}
),

final as (
    select
        cast(unit_id as varchar) as unit_id,
        cast(unit_name as varchar) as unit_name,
        cast(unit_type as varchar) as unit_type,
        cast(community_code as varchar) as community_code,
        cast(admin_name_masked as varchar) as admin_name_masked,
        cast(admin_phone_masked as varchar) as admin_phone_masked,
        cast(lat as double) as lat,
        cast(lon as double) as lon
    from source
)

select * from final
