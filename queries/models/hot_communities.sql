-- model: hot_communities
-- returns: the communities (村/居) and their 片区, copied whole into memory (a few thousand rows at most)
-- grain: one row per community
-- key: community_code
-- reads: stg_communities
-- materialized: snapshot
select * from stg_communities
