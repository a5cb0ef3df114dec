-- query: registration_sites
-- returns: registration scans and distinct people by the kind of site (建筑工地, 公园广场, 企业厂区, ...)
-- grain: one row per site
-- key: site
-- param community_code: 12-digit community code (where the scanning unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
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
