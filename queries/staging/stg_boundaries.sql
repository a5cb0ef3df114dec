-- view: stg_boundaries
-- returns: each community's boundary as GeoJSON geometry text, with its centroid
-- grain: one row per community
-- key: community_code
with source as (
    select * from {{ ref_boundaries }}
),

final as (
    select
        cast(community_code as varchar) as community_code,
        cast(geojson as varchar) as geojson,
        cast(centroid_lat as double) as centroid_lat,
        cast(centroid_lon as double) as centroid_lon
    from source
)

select * from final
