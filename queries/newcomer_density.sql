-- query: newcomer_density
-- returns: newcomers per map cell (0.0015° × 0.002°, under 250 m across) with the cell's centre
-- grain: one row per map cell with at least one newcomer
-- key: cell_id
-- param community_code: 12-digit community code; null = the whole subdistrict
-- param area: 片区 name; null = all
with communities as (
    select * from communities_in($community_code, $area)
),

in_scope as (
    select * from roll_cells
    where cell_id is not null
        and community_code in (select community_code from communities)
),

-- logic

cells as (
    select
        cell_id,
        cast(sum(residents) as bigint) as residents,
        cast(sum(newcomers) as bigint) as newcomers
    from in_scope
    group by cell_id
),

final as (
    select
        cell_id,
        (cell_id // 1000000 + 0.5) * 0.0015 as lat,
        (cell_id % 1000000 + 0.5) * 0.002 as lon,
        newcomers,
        residents,
        newcomers / residents as newcomer_share
    from cells
    where newcomers > 0
)

select * from final
order by cell_id
