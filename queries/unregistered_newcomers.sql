-- query: unregistered_newcomers
-- returns: the door-to-door list: newcomers who have not registered yet, masked (no raw personal
--          information), by managing unit and house; the same people unit_progress counts as not registered;
--          total = how many people the whole list has (also when only its first rows are returned)
-- grain: one row per unregistered newcomer (the first `limit` of them in list order, when limit is given)
-- key: no
-- param community_code: 12-digit community code (where the managing unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
-- param unit_id: the managing unit; null = all units
-- param limit: only the first this many people in list order (a page's preview); null = all of them (an export)
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

-- living newcomers per unit, community and registration day (null: not registered)
newcomer_days as (
    select * from roll_units
    where unit_id in (select unit_id from units)
),

residence as (
    select community_code, community_name from hot_communities
),

-- logic

unregistered as (
    select * from newcomers
    where not registered
),

-- the first rows in list order, taken before the names are joined on (a top-N, not a sort of the whole list)
shown as (
    select * from unregistered
    order by unit_id, community_code, house_id, id_masked, person_key
    limit $limit
),

-- the whole list's length from the rollup: the same people, without counting them row by row
total as (
    select cast(coalesce(sum(newcomers), 0) as bigint) as total
    from newcomer_days
    where first_day is null
),

final as (
    select
        row_number() over (
            order by shown.unit_id, shown.community_code, shown.house_id, shown.id_masked, shown.person_key
        ) as no,
        shown.unit_id,
        units.unit_name,
        shown.community_code,
        residence.community_name,
        shown.name_masked,
        shown.id_masked,
        shown.phone_masked,
        shown.house_id,
        shown.arrival_date,
        shown.reason,
        (select total from total) as total
    from shown
    join units on units.unit_id = shown.unit_id
    left join residence on residence.community_code = shown.community_code
)

select * from final
order by no
