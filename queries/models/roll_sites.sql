-- model: roll_sites
-- returns: registration scans and distinct people per kind of site, for every filter the pages offer: each
--          community (of the scanning unit), each 片区 and the whole subdistrict. Distinct people do not add
--          up (a person scanned at the same kind of site in two communities is one person of their 片区), so
--          each level counts its own
-- grain: one row per level (community, area, all), scope (its code or name; '' for all) and site
-- key: level, scope, site
-- reads: hot_registrations, hot_communities
-- materialized: append
-- incremental: add
with scans as (
    select hot_registrations.person_key, hot_registrations.site, hot_communities.community_code, hot_communities.area
    from hot_registrations
    join hot_communities using (community_code)
),

scoped as (
    select 'community' as level, community_code as scope, site, person_key from scans
    union all
    select 'area', area, site, person_key from scans
    union all
    select 'all', '', site, person_key from scans
)

select level, scope, site, count(*) as scans, count(distinct person_key) as people
from scoped
group by all

-- @incremental: the new scans, and the people new to a site at a level: those whose every scan there is a
--   new one (hot_registrations holds the new scans by now; it is probed with the few new people only)
with scans as (
    select true as is_new, arrived.person_key, arrived.site, hot_communities.community_code, hot_communities.area
    from new_hot_registrations as arrived
    join hot_communities using (community_code)
    union all
    select false, hot_registrations.person_key, hot_registrations.site, hot_communities.community_code,
        hot_communities.area
    from hot_registrations
    join hot_communities using (community_code)
    where hot_registrations.person_key in (select person_key from new_hot_registrations)
),

scoped as (
    select 'community' as level, community_code as scope, site, person_key, is_new from scans
    union all
    select 'area', area, site, person_key, is_new from scans
    union all
    select 'all', '', site, person_key, is_new from scans
),

per_person as (
    select
        level,
        scope,
        site,
        count(*) filter (where is_new) as new_scans,
        count(*) filter (where not is_new) as all_scans
    from scoped
    group by level, scope, site, person_key
)

select level, scope, site, sum(new_scans) as scans, count(*) filter (where new_scans = all_scans) as people
from per_person
where new_scans > 0
group by all
