-- view: stg_communities
-- returns: the 85 village-level divisions (村/居) with their 片区
-- grain: one row per community
-- key: community_code
with source as (
    select * from {{ ref_communities }}
),

final as (
    select
        cast(community_code as varchar) as community_code,
        cast(community_name as varchar) as community_name,
        cast(kind as varchar) as kind,
        cast(area as varchar) as area,
        cast(assumed as boolean) as assumed
    from source
)

select * from final
