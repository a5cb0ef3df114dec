-- query: registration_sites
-- returns: registration scans and distinct people by the kind of site (建筑工地, 公园广场, 企业厂区, ...)
-- grain: one row per site
-- key: site
-- param community_code: 12-digit community code (where the scanning unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
-- Distinct people do not add up across communities, so each filter reads what is exact for it: the whole
-- subdistrict its own rollup, one community the per-community rollup, a 片区 the scans themselves.
with params as (
    select
        cast($community_code as varchar) is null and cast($area as varchar) is null as whole,
        cast($community_code as varchar) is not null as one_community
),

communities as (
    select * from communities_in($community_code, $area)
),

whole as (
    select site, scans, people
    from roll_sites_all
    where (select whole from params)
),

one_community as (
    select site, scans, people
    from roll_sites
    where (select one_community from params)
        and community_code in (select community_code from communities)
),

-- a 片区 without a community: its communities' scans (not empty only then)
area_scans as (
    select * from hot_registrations
    where community_code in (
        select community_code from communities
        where not (select whole or one_community from params)
    )
),

-- logic

by_area as (
    select site, count(*) as scans, count(distinct person_key) as people
    from area_scans
    group by site
),

final as (
    select site, scans, people from whole
    union all
    select site, scans, people from one_community
    union all
    select site, scans, people from by_area
)

select * from final
order by scans desc, site
