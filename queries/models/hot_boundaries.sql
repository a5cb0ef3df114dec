-- model: hot_boundaries
-- returns: each community's boundary (GeoJSON geometry text) and centroid, copied whole into memory (a few thousand rows at most)
-- grain: one row per community
-- key: community_code
-- reads: stg_boundaries
-- materialized: snapshot
select * from stg_boundaries
