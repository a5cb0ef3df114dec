-- view: stg_quarantined_rows
-- returns: rows refused at ingest, with their reasons (the rows' own columns are left out)
-- grain: one row per refused row
-- key: batch_id, row_number
with source as (
    select * from {{ quarantined_rows }}
),

final as (
    select
        regexp_extract(filename, '([^/\\]+)[/\\][^/\\]+\.parquet$', 1) as feed,
        regexp_extract(filename, '([^/\\]+)\.parquet$', 1) as batch_id,
        cast(_row as bigint) as row_number,
        cast(_reasons as varchar) as reasons
    from source
)

select * from final
