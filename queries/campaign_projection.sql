-- query: campaign_projection
-- returns: the campaign's target and where it stands: registered so far, the pace of the last 14 days,
--          the pace needed to reach the target by the deadline, and the projected finish at the recent pace
-- grain: one row (the campaign)
-- key: campaign_name
-- param community_code: 12-digit community code (where the newcomers live); null = the whole subdistrict
-- param area: 片区 name; null = all
-- param now: the clock time ("now"); the runner fills it in when not given
with params as (
    select
        cast(cast($now as timestamp) as date) as today
),

communities as (
    select * from communities_in($community_code, $area)
),

newcomer_days as (
    select first_day, sum(newcomers) as newcomers
    from roll_units
    where community_code in (select community_code from communities)
    group by first_day
),

campaign as (
    select * from hot_campaign order by deadline desc limit 1
),

-- logic

counts as (
    select
        cast(coalesce(sum(newcomer_days.newcomers), 0) as bigint) as newcomers,
        cast(coalesce(sum(newcomer_days.newcomers) filter (where newcomer_days.first_day is not null), 0)
            as bigint) as registered,
        cast(coalesce(sum(newcomer_days.newcomers) filter (
            where newcomer_days.first_day > params.today - 14 and newcomer_days.first_day <= params.today
        ), 0) as bigint) as registered_14d
    from newcomer_days
    cross join params
),

standing as (
    select
        campaign.campaign_name,
        campaign."start",
        campaign.deadline,
        campaign.target_rate,
        params.today,
        counts.newcomers,
        cast(ceil(campaign.target_rate * counts.newcomers) as bigint) as target_registered,
        counts.registered,
        counts.registered_14d / 14.0 as pace_14d,
        greatest(0, date_diff('day', params.today, campaign.deadline)) as days_left
    from campaign, params, counts
),

final as (
    select
        campaign_name,
        "start",
        deadline,
        target_rate,
        newcomers,
        target_registered,
        registered,
        greatest(0, target_registered - registered) as remaining,
        days_left,
        pace_14d,
        case
            when target_registered <= registered then 0.0
            when days_left > 0 then (target_registered - registered) / days_left
        end as needed_pace,
        case
            when target_registered <= registered then today
            when pace_14d > 0 then cast(today + to_days(cast(ceil((target_registered - registered) / pace_14d) as integer)) as date)
        end as projected_finish
    from standing
)

select
    *,
    coalesce(projected_finish <= deadline, false) as on_track
from final
