-- view: stg_source_records
-- returns: every accepted record shared by the departments (公安, 工信, 医院, 学校)
-- grain: one row per record
-- key: record_id
with source as (
    select * from {{ source_records }}
),

accepted_batches as (
    select batch_id from stg_manifest where feed = 'source_records' and is_current
),

final as (
    select
        cast(batch_id as varchar) as batch_id,
        cast(record_id as varchar) as record_id,
        cast(source as varchar) as source,
        cast(person_key as varchar) as person_key,
        cast(detail as varchar) as detail
    from source
    where batch_id in (select batch_id from accepted_batches)
)

select * from final
