-- model: hot_newcomers
-- returns: the living newcomers (在住, 流动人口) with what the composition and the door-to-door list need, the
--          来源地 (origin) worked out once, the day of their first accepted registration (null: none) and
--          whether they have registered
-- grain: one row per living newcomer
-- key: person_key
-- reads: stg_residents, hot_provinces, hot_first_registrations
-- materialized: append
-- incremental: update
select
    pk(stg_residents.person_key) as person_key,
    stg_residents.community_code,
    stg_residents.unit_id,
    case
        when stg_residents.home_region like '3702%' then '本市（青岛）'
        when stg_residents.home_region like '37%' then '本省其他市'
        else coalesce(hot_provinces.province_name, '未知')
    end as origin,
    stg_residents.reason,
    stg_residents.gender,
    stg_residents.birth_year,
    stg_residents.name_masked,
    stg_residents.id_masked,
    stg_residents.phone_masked,
    stg_residents.house_id,
    stg_residents.arrival_date,
    hot_first_registrations.first_day,
    hot_first_registrations.person_key is not null as registered
from stg_residents
left join hot_provinces on hot_provinces.province_code = left(stg_residents.home_region, 2)
left join hot_first_registrations on hot_first_registrations.person_key = pk(stg_residents.person_key)
where stg_residents.status = '在住' and stg_residents.population_type = '流动人口'

-- @incremental: a newcomer with a new (or an earlier) first registration gets its day and leaves the
--   door-to-door list (a registration, once accepted, stays); other people are no rows of this table
select person_key, first_day, true as registered
from new_hot_first_registrations
