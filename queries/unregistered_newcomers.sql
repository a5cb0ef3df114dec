-- query: unregistered_newcomers
-- returns: the door-to-door list: newcomers living here who have not registered yet, masked (no raw
--          personal information), by managing unit and house
-- grain: one row per unregistered newcomer
-- key: no
-- param community_code: 12-digit community code (where the newcomer lives); null = the whole subdistrict
-- param area: 片区 name; null = all
-- param unit_id: the managing unit; null = all units
with params as (
    select
        cast($community_code as varchar) as community_code,
        cast($area as varchar) as area,
        cast($unit_id as varchar) as unit_id
),

communities as (
    select stg_communities.*
    from stg_communities, params
    where (params.community_code is null or stg_communities.community_code = params.community_code)
        and (params.area is null or stg_communities.area = params.area)
),

newcomers as (
    select stg_residents.*
    from stg_residents, params
    where stg_residents.status = '在住' and stg_residents.population_type = '流动人口'
        and stg_residents.community_code in (select community_code from communities)
        and (params.unit_id is null or stg_residents.unit_id = params.unit_id)
),

registrations as (
    select * from stg_registrations
),

units as (
    select * from stg_units
),

-- logic

unregistered as (
    select * from newcomers
    where not exists (select 1 from registrations where registrations.person_key = newcomers.person_key)
),

final as (
    select
        row_number() over (
            order by unregistered.unit_id, unregistered.community_code, unregistered.house_id,
                unregistered.id_masked, unregistered.person_key
        ) as no,
        unregistered.unit_id,
        units.unit_name,
        unregistered.community_code,
        communities.community_name,
        unregistered.name_masked,
        unregistered.id_masked,
        unregistered.phone_masked,
        unregistered.house_id,
        unregistered.arrival_date,
        unregistered.reason
    from unregistered
    join communities using (community_code)
    left join units using (unit_id)
)

select * from final
order by no
