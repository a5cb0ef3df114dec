-- query: held_snapshots
-- returns: snapshots held back (they would shrink the picture suddenly) and not yet accepted by an operator,
--          with why, beside the current snapshot's row count
-- grain: one row per held batch
-- key: batch_id
with manifest as (
    select * from hot_manifest
),

-- logic

current_snapshots as (
    select feed, accepted as current_accepted
    from manifest
    where is_current
),

held as (
    select * from manifest
    where outcome = 'held' and not is_accepted
),

final as (
    select
        held.batch_id,
        held.feed,
        held.file_name,
        held.ingested_at,
        held.rows_in,
        held.accepted,
        held.quarantined,
        held.reason,
        current_snapshots.current_accepted
    from held
    left join current_snapshots using (feed)
)

select * from final
order by ingested_at desc
