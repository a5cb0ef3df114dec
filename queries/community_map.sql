-- query: community_map
-- returns: every community's boundary (GeoJSON geometry text) and centroid with its residents, newcomers
--          and newcomer share, for the choropleth
-- grain: one row per community
-- key: community_code
-- param community_code: 12-digit community code; null = every community
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
),

boundaries as (
    select * from hot_boundaries
),

cells as (
    select * from roll_cells
),

-- logic

per_community as (
    select community_code, sum(residents) as residents, sum(newcomers) as newcomers
    from cells
    group by community_code
),

final as (
    select
        communities.community_code,
        communities.community_name,
        communities.area,
        boundaries.geojson,
        boundaries.centroid_lat,
        boundaries.centroid_lon,
        cast(coalesce(per_community.residents, 0) as bigint) as residents,
        cast(coalesce(per_community.newcomers, 0) as bigint) as newcomers,
        per_community.newcomers / nullif(per_community.residents, 0) as newcomer_share
    from communities
    left join boundaries using (community_code)
    left join per_community using (community_code)
)

select * from final
order by community_code
