-- view: stg_decisions
-- returns: operators' decisions on held snapshots (today only "accept")
-- grain: one row per decision
-- key: decision_id
with source as (
    select * from {{ decisions }}
),

final as (
    select
        cast(decision_id as varchar) as decision_id,
        cast(batch_id as varchar) as batch_id,
        cast(decision as varchar) as decision,
        cast(decided_at as timestamp) as decided_at,
        cast(operator as varchar) as operator
    from source
)

select * from final
