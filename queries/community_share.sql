-- query: community_share
-- returns: residents, newcomers and the newcomer share of every community, highest share first,
--          with the community's registration rate
-- grain: one row per community
-- key: community_code
-- param community_code: 12-digit community code; null = every community
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
),

cells as (
    select * from roll_cells
),

newcomer_days as (
    select * from roll_units
),

-- logic

per_community as (
    select
        counts.community_code,
        counts.residents,
        counts.newcomers,
        coalesce(registered.registered, 0) as registered
    from (
        select community_code, sum(residents) as residents, sum(newcomers) as newcomers
        from cells
        group by community_code
    ) as counts
    left join (
        select community_code, sum(newcomers) as registered
        from newcomer_days
        where first_day is not null
        group by community_code
    ) as registered using (community_code)
),

final as (
    select
        communities.community_code,
        communities.community_name,
        communities.kind,
        communities.area,
        cast(coalesce(per_community.residents, 0) as bigint) as residents,
        cast(coalesce(per_community.newcomers, 0) as bigint) as newcomers,
        per_community.newcomers / nullif(per_community.residents, 0) as newcomer_share,
        cast(coalesce(per_community.registered, 0) as bigint) as registered,
        per_community.registered / nullif(per_community.newcomers, 0) as registration_rate
    from communities
    left join per_community using (community_code)
)

select * from final
order by newcomer_share desc nulls last, community_code
