-- view: stg_campaign
-- returns: the registration campaign (一家亲扫码登记): start, deadline, target rate
-- grain: one row (the campaign)
-- key: campaign_name
with source as (
    select * from {{ ref_campaign }}
),

final as (
    select
        cast(campaign_name as varchar) as campaign_name,
        cast("start" as date) as "start",
        cast(deadline as date) as deadline,
        cast(target_rate as double) as target_rate
    from source
)

select * from final
