-- model: hot_provinces
-- returns: the province-level divisions by the first two digits of a division code, copied whole into memory (a few thousand rows at most)
-- grain: one row per province
-- key: province_code
-- reads: stg_provinces
-- materialized: snapshot
select * from stg_provinces
