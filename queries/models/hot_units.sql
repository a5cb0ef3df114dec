-- model: hot_units
-- returns: the management units, administrators masked, copied whole into memory (a few thousand rows at most)
-- grain: one row per unit
-- key: unit_id
-- reads: stg_units
-- materialized: snapshot
select * from stg_units
