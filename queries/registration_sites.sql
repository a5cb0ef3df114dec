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
    select * from communities_in($community_code, $area)
),

-- distinct people do not add up across communities: the rollup counts them at each level a filter can ask
-- for (one community, one 片区, the whole subdistrict)
sites as (
    select roll_sites.*
    from roll_sites, params
    where case
        when params.community_code is not null
            then roll_sites.level = 'community'
                and roll_sites.scope in (select community_code from communities)
        when params.area is not null then roll_sites.level = 'area' and roll_sites.scope = params.area
        else roll_sites.level = 'all'
    end
),

-- logic

final as (
    select site, scans, people from sites
)

select * from final
order by scans desc, site
