-- query: registration_daily
-- returns: registration scans per day and channel (扫码自助, 入户登记, 企业批量, 部门比对)
-- grain: one row per day and channel with at least one scan
-- key: day, channel
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
    select * from roll_scans
    where community_code in (select community_code from communities)
),

-- logic

final as (
    select day, channel, cast(sum(scans) as bigint) as scans
    from scans
    group by all
)

select * from final
order by day, channel
