-- query: communities
-- returns: the communities and their 片区, for the filters (assumed: the area grouping is an assumption)
-- grain: one row per community
-- key: community_code
with communities as (
    select * from hot_communities
),

final as (
    select community_code, community_name, kind, area, assumed
    from communities
)

select * from final
order by area, community_code
