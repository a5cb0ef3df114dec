-- query: registration_sites
-- returns: registration scans and distinct people by the kind of site (建筑工地, 公园广场, 企业厂区, ...)
-- grain: one row per site
-- key: site
-- param community_code: 12-digit community code (where the scanning unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
with params as (
    select
        cast($community_code as varchar) as community_code,
        cast($area as varchar) as area
),

communities as (
    select hot_communities.*
    from hot_communities, params
    where (params.community_code is null or hot_communities.community_code = params.community_code)
        and (params.area is null or hot_communities.area = params.area)
),

scans as (
    select * from hot_registrations
    where community_code in (select community_code from communities)
),

-- logic

final as (
    select site, count(*) as scans, count(distinct person_key) as people
    from scans
    group by site
)

select * from final
order by scans desc, site
