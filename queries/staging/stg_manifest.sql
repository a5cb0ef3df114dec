-- view: stg_manifest
-- returns: every processed inbox file, with whether its batch counts (accepted, or held and then accepted)
--          and whether it is current (snapshot feeds: the latest counted batch; increment feeds: every one)
-- grain: one row per batch
-- key: batch_id
with source as (
    select * from {{ manifest }}
),

accept_decisions as (
    select batch_id, min(decided_at) as decided_at
    from stg_decisions
    where decision = 'accept'
    group by batch_id
),

renamed as (
    select
        cast(batch_id as varchar) as batch_id,
        cast(feed as varchar) as feed,
        cast(file_name as varchar) as file_name,
        cast(sha256 as varchar) as sha256,
        cast(ingested_at as timestamp) as ingested_at,
        cast(rows_in as bigint) as rows_in,
        cast(accepted as bigint) as accepted,
        cast(quarantined as bigint) as quarantined,
        cast(duplicates as bigint) as duplicates,
        cast(outcome as varchar) as outcome,
        cast(reason as varchar) as reason,
        cast(warehouse_file as varchar) as warehouse_file,
        cast(quarantine_file as varchar) as quarantine_file,
        cast(archive_file as varchar) as archive_file
    from source
),

flagged as (
    select
        renamed.*,
        accept_decisions.decided_at,
        coalesce(renamed.outcome = 'accepted' or accept_decisions.batch_id is not null, false) as is_accepted
    from renamed
    left join accept_decisions using (batch_id)
),

final as (
    select
        *,
        is_accepted and (
            feed not in ('residents', 'houses')
            or row_number() over (
                partition by feed, is_accepted order by ingested_at desc, batch_id desc
            ) = 1
        ) as is_current
    from flagged
)

select * from final
