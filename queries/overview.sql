-- query: overview
-- returns: the headline figures: residents, newcomers and their share, registration against plan,
--          people the campaign discovered, today's scans, rental archiving, and when the data last arrived
-- grain: one row
-- key: -
-- param community_code: 12-digit community code; null = the whole subdistrict
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

cells as (
    select * from roll_cells
    where community_code in (select community_code from communities)
),

newcomer_days as (
    select * from roll_units
    where community_code in (select community_code from communities)
),

registrations as (
    select * from hot_registrations
),

houses as (
    select * from roll_houses
    where community_code in (select community_code from communities)
),

campaign as (
    select * from hot_campaign order by deadline desc limit 1
),

-- logic

-- registered people who are not among the living residents, by the community of their first scan's unit
discovered as (
    select coalesce(sum(discovered), 0) as discovered
    from roll_discovered
    where community_code in (select community_code from communities)
),

-- only today's and the last hour's scans: a range on scanned_at lets the scan skip the older row groups
scans as (
    select registrations.scanned_at
    from registrations, params
    where registrations.scanned_at >= least(cast(params.today as timestamp), params.clock_now - interval 1 hour)
        and registrations.scanned_at <= params.clock_now
        and registrations.community_code in (select community_code from communities)
),

plan as (
    select
        campaign.target_rate * plan_fraction(campaign."start", campaign.deadline, params.today) as plan_rate
    from campaign, params
),

resident_counts as (
    select
        cast(coalesce((select sum(residents) from cells), 0) as bigint) as residents,
        cast(coalesce((select sum(newcomers) from cells), 0) as bigint) as newcomers,
        cast(coalesce((select sum(newcomers) from newcomer_days where first_day is not null), 0) as bigint)
            as registered
),

scan_counts as (
    select
        count(*) filter (
            where cast(scans.scanned_at as date) = params.today and scans.scanned_at <= params.clock_now
        ) as scans_today,
        count(*) filter (
            where scans.scanned_at > params.clock_now - interval 1 hour and scans.scanned_at <= params.clock_now
        ) as scans_last_hour
    from scans, params
),

house_counts as (
    select
        cast(coalesce(sum(rentals), 0) as bigint) as rentals,
        cast(coalesce(sum(rentals_archived), 0) as bigint) as rentals_archived
    from houses
),

counts as (
    select
        resident_counts.*,
        cast((select discovered from discovered) as bigint) as discovered,
        scan_counts.*,
        house_counts.*,
        (select plan_rate from plan) as plan_rate,
        (select max(ingested_at) from hot_manifest where is_accepted) as as_of
    from resident_counts, scan_counts, house_counts
),

final as (
    select
        residents,
        newcomers,
        newcomers / nullif(residents, 0) as newcomer_share,
        registered,
        registered / nullif(newcomers, 0) as registration_rate,
        plan_rate * newcomers as plan_registered,
        plan_rate,
        discovered,
        scans_today,
        scans_last_hour,
        rentals,
        rentals_archived / nullif(rentals, 0) as rental_archive_rate,
        as_of
    from counts
)

select * from final
