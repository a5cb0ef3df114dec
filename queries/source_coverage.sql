-- query: source_coverage
-- returns: how many of the newcomers each department's shared data (公安, 工信, 医院, 学校) covers
-- grain: one row per department (source)
-- key: source
-- param community_code: 12-digit community code; null = the whole subdistrict
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
),

cells as (
    select * from roll_cells
    where community_code in (select community_code from communities)
),

matched_per_community as (
    select * from roll_sources
    where community_code in (select community_code from communities)
),

source_names as (
    select * from roll_source_names
),

-- logic

known_sources as (
    select * from (values (1, '公安'), (2, '工信'), (3, '医院'), (4, '学校')) as t(sort_order, source)
),

sources as (
    select sort_order, source from known_sources
    union
    select 99 as sort_order, source from source_names
    where source not in (select source from known_sources)
),

-- a person lives in one community, so per-community counts of distinct people add up
matched as (
    select source, cast(sum(newcomers_matched) as bigint) as newcomers_matched
    from matched_per_community
    group by source
),

totals as (
    select cast(coalesce(sum(newcomers), 0) as bigint) as newcomers from cells
),

final as (
    select
        sources.source,
        coalesce(matched.newcomers_matched, 0) as newcomers_matched,
        coalesce(matched.newcomers_matched, 0) / nullif(totals.newcomers, 0) as share_of_newcomers,
        totals.newcomers,
        sources.sort_order
    from sources
    left join matched using (source)
    cross join totals
)

select * exclude (sort_order) from final
order by sort_order, source
