-- query: unit_progress
-- returns: registration progress of every management unit against plan, behind plan first
-- grain: one row per unit
-- key: unit_id
-- param community_code: 12-digit community code (where the unit is); null = the whole subdistrict
-- param area: 片区 name; null = all
-- param now: the clock time ("now"); the runner fills it in when not given
with params as (
    select
        cast($now as timestamp) as clock_now,
        cast(cast($now as timestamp) as date) as today
),

communities as (
    select * from communities_in($community_code, $area)
),

units as (
    select * from hot_units
    where community_code in (select community_code from communities)
),

newcomer_days as (
    select * from roll_units
),

registrations as (
    select * from hot_registrations
),

campaign as (
    select * from hot_campaign order by deadline desc limit 1
),

-- logic

per_unit as (
    select
        unit_id,
        cast(sum(newcomers) as bigint) as newcomers,
        cast(coalesce(sum(newcomers) filter (where first_day is not null), 0) as bigint) as registered
    from newcomer_days
    group by unit_id
),

recent_scans as (
    select registrations.unit_id, count(*) as scans_7d
    from registrations, params
    where registrations.scanned_at > params.clock_now - interval 7 day
        and registrations.scanned_at <= params.clock_now
    group by registrations.unit_id
),

plan as (
    select
        campaign.target_rate * plan_fraction(campaign."start", campaign.deadline, params.today) as plan_rate
    from campaign, params
),

final as (
    select
        units.unit_id,
        units.unit_name,
        units.unit_type,
        units.community_code,
        communities.community_name,
        units.admin_name_masked,
        coalesce(per_unit.newcomers, 0) as newcomers,
        coalesce(per_unit.registered, 0) as registered,
        per_unit.registered / nullif(per_unit.newcomers, 0) as registration_rate,
        plan.plan_rate,
        plan.plan_rate * coalesce(per_unit.newcomers, 0) as plan_registered,
        coalesce(per_unit.registered, 0) - plan.plan_rate * coalesce(per_unit.newcomers, 0) as gap,
        coalesce(recent_scans.scans_7d, 0) as scans_7d
    from units
    join communities using (community_code)
    left join per_unit using (unit_id)
    left join recent_scans using (unit_id)
    left join plan on true
)

select * from final
order by gap asc nulls last, unit_id
