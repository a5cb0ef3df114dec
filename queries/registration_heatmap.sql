-- query: registration_heatmap
-- returns: registration scans by weekday (1 = Monday … 7 = Sunday) and hour of day, zeros included
-- grain: one row per weekday and hour (7 × 24 rows)
-- key: weekday, hour
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
