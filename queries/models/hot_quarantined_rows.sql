-- model: hot_quarantined_rows
-- returns: rows refused at ingest with their reasons (stg_quarantined_rows), in memory
-- grain: one row per refused row
-- key: batch_id, row_number
-- reads: stg_quarantined_rows
-- materialized: snapshot
select * from stg_quarantined_rows
