-- view: stg_provinces
-- returns: the 34 province-level divisions by the first two digits of a division code (static table)
-- grain: one row per province
-- key: province_code
with source as (
    select * from {{ provinces }}
),

final as (
    select
        lpad(cast(province_code as varchar), 2, '0') as province_code,
        cast(province_name as varchar) as province_name
    from source
)

select * from final
