-- query: quarantine_reasons
-- returns: what ingest refused and why: whole files refused (with the manifest's reason) and refused rows
--          counted by reason, newest first (a row refused for two reasons counts under both)
-- grain: one row per batch and reason
-- key: batch_id, reason
-- param feed: feed name (residents, houses, registrations, source_records); null = all
with params as (
    select cast($feed as varchar) as feed
),

manifest as (
    select hot_manifest.*
    from hot_manifest, params
    where params.feed is null or hot_manifest.feed = params.feed
),

quarantined_rows as (
    select * from hot_quarantined_rows
),

-- logic

row_reasons as (
    select batch_id, row_number, trim(unnest(string_split(coalesce(reasons, '未注明原因'), '；'))) as reason
    from quarantined_rows
),

refused_files as (
    select
        batch_id,
        feed,
        file_name,
        ingested_at,
        '整个文件' as scope,
        coalesce(reason, '文件被拒收') as reason,
        rows_in as rows
    from manifest
    where outcome = 'refused'
),

refused_rows as (
    select
        manifest.batch_id,
        manifest.feed,
        manifest.file_name,
        manifest.ingested_at,
        '单行' as scope,
        row_reasons.reason,
        count(distinct row_reasons.row_number) as rows
    from row_reasons
    join manifest using (batch_id)
    group by all
),

final as (
    select * from refused_files
    union all
    select * from refused_rows
)

select * from final
order by ingested_at desc, batch_id, rows desc, reason
