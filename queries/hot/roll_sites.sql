-- table: roll_sites
-- returns: registration scans and distinct people per kind of site, for every filter the pages offer: each
--          community (of the scanning unit), each 片区 and the whole subdistrict. Distinct people do not add
--          up (a person scanned at the same kind of site in two communities is one person of their 片区), so
--          each level counts its own; kept up to date from each new batch by update_sites.sql
-- grain: one row per level (community, area, all), scope (its code or name; '' for all) and site
-- key: level, scope, site
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
