-- query: registration_heatmap
-- returns: registration scans by weekday (1 = Monday … 7 = Sunday) and hour of day, zeros included
-- grain: one row per weekday and hour (7 × 24 rows)
-- key: weekday, hour
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

grid as (
    select weekday, hour
    from range(1, 8) as w(weekday), range(0, 24) as h(hour)
),

counted as (
    select weekday, hour, cast(sum(scans) as bigint) as scans
    from scans
    group by all
),

final as (
    select
        cast(grid.weekday as integer) as weekday,
        cast(grid.hour as integer) as hour,
        coalesce(counted.scans, 0) as scans
    from grid
    left join counted using (weekday, hour)
)

select * from final
order by weekday, hour
