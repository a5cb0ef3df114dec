-- query: registration_progress
-- returns: newcomers registered each day of the campaign, cumulative, against the plan line
-- grain: one row per day, from the campaign start to today
-- key: day
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

-- a registration before the start counts on the first day, one after today (clock set back) on today
registered as (
    select least(greatest(newcomer_days.first_day, campaign."start"), params.today) as day, newcomer_days.newcomers
    from newcomer_days
    cross join campaign
    cross join params
    where newcomer_days.first_day is not null
),

daily as (
    select day, cast(sum(newcomers) as bigint) as new_registered
    from registered
    group by day
),

days as (
    select cast(unnest(generate_series(
        cast(campaign."start" as timestamp), cast(params.today as timestamp), interval 1 day)) as date) as day
    from campaign, params
),

totals as (
    select cast(coalesce(sum(newcomers), 0) as bigint) as newcomers from newcomer_days
),

final as (
    select
        days.day,
        coalesce(daily.new_registered, 0) as new_registered,
        cast(sum(coalesce(daily.new_registered, 0)) over (order by days.day) as bigint) as registered_cumulative,
        campaign.target_rate * totals.newcomers * plan_fraction(campaign."start", campaign.deadline, days.day) as plan_cumulative,
        totals.newcomers
    from days
    left join daily using (day)
    cross join campaign
    cross join totals
)

select * from final
order by day
