-- query: registration_daily
-- returns: registration scans per day and channel (扫码自助, 入户登记, 企业批量, 部门比对)
-- grain: one row per day and channel with at least one scan
-- key: day, channel
-- param community_code: 12-digit community code (where the scanning unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
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
