-- query: area_share
-- returns: residents, newcomers and the newcomer share of every 片区 (management area), highest share first
-- grain: one row per area
-- key: area
-- param community_code: 12-digit community code; null = every community
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
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

per_area as (
    select
        communities.area,
        count(*) as communities,
        coalesce(sum(per_community.residents), 0) as residents,
        coalesce(sum(per_community.newcomers), 0) as newcomers
    from communities
    left join per_community using (community_code)
    group by communities.area
),

final as (
    select
        area,
        communities,
        cast(residents as bigint) as residents,
        cast(newcomers as bigint) as newcomers,
        newcomers / nullif(residents, 0) as newcomer_share
    from per_area
)

select * from final
order by newcomer_share desc nulls last, area
