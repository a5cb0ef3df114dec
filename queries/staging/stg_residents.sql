-- view: stg_residents
-- returns: the current residents snapshot (实有人口), pseudonymized; both 在住 and 离开 rows
-- grain: one row per person in the current snapshot
-- key: person_key
with source as (
    select * from {{ residents }}
),

current_batch as (
    select batch_id from stg_manifest where feed = 'residents' and is_current
),

final as (
    select
        cast(batch_id as varchar) as batch_id,
        cast(person_key as varchar) as person_key,
        cast(id_masked as varchar) as id_masked,
        cast(name_masked as varchar) as name_masked,
        cast(phone_masked as varchar) as phone_masked,
        cast(gender as varchar) as gender,
        cast(birth_year as integer) as birth_year,
        cast(home_region as varchar) as home_region,
        cast(population_type as varchar) as population_type,
        cast(community_code as varchar) as community_code,
        cast(unit_id as varchar) as unit_id,
        cast(house_id as varchar) as house_id,
        cast(lat as double) as lat,
        cast(lon as double) as lon,
        cast(cell_id as bigint) as cell_id,
        cast(reason as varchar) as reason,
        cast(arrival_date as date) as arrival_date,
        cast(status as varchar) as status
    from source
    where batch_id in (select batch_id from current_batch)
)

select * from final
