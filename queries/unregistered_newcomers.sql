-- query: unregistered_newcomers
-- returns: the door-to-door list: newcomers who have not registered yet, masked (no raw personal
--          information), by managing unit and house; the same people unit_progress counts as not registered
-- grain: one row per unregistered newcomer
-- key: no
-- param community_code: 12-digit community code (where the managing unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
-- param unit_id: the managing unit; null = all units
with params as (
    select
        cast($unit_id as varchar) as unit_id
),

communities as (
    select * from communities_in($community_code, $area)
),

units as (
    select hot_units.*
    from hot_units, params
    where hot_units.community_code in (select community_code from communities)
        and (params.unit_id is null or hot_units.unit_id = params.unit_id)
),

newcomers as (
    select * from hot_newcomers
    where unit_id in (select unit_id from units)
),

registered_people as (
    select person_key from hot_first_registrations
),

residence as (
    select community_code, community_name from hot_communities
),

-- logic

unregistered as (
    select * from newcomers
    where not exists (
        select 1 from registered_people where registered_people.person_key = newcomers.person_key
    )
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
        residence.community_name,
        unregistered.name_masked,
        unregistered.id_masked,
        unregistered.phone_masked,
        unregistered.house_id,
        unregistered.arrival_date,
        unregistered.reason
    from unregistered
    join units on units.unit_id = unregistered.unit_id
    left join residence on residence.community_code = unregistered.community_code
)

select * from final
order by no
