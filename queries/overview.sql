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
        cast($community_code as varchar) as community_code,
        cast($area as varchar) as area,
        cast($now as timestamp) as clock_now,
        cast(cast($now as timestamp) as date) as today
),

communities as (
    select hot_communities.*
    from hot_communities, params
    where (params.community_code is null or hot_communities.community_code = params.community_code)
        and (params.area is null or hot_communities.area = params.area)
),

all_residents as materialized (
    select * from hot_residents where status = '在住'
),

registrations as (
    select * from hot_registrations
),

houses as (
    select * from hot_houses
    where community_code in (select community_code from communities)
),

campaign as (
    select * from hot_campaign order by deadline desc limit 1
),

-- logic

residents as (
    select * from all_residents
    where community_code in (select community_code from communities)
),

registered_people as (
    select person_key from hot_first_registrations
),

first_registrations as (
    select person_key, community_code from hot_first_registrations
),

discovered as (
    select person_key
    from first_registrations
    where community_code in (select community_code from communities)
        and not exists (select 1 from all_residents where all_residents.person_key = first_registrations.person_key)
),

scans as (
    select registrations.scanned_at
    from registrations
    where community_code in (select community_code from communities)
),

plan as (
    select
        campaign.target_rate * case
            when campaign.deadline <= campaign."start" then case when params.today >= campaign.deadline then 1.0 else 0.0 end
            else least(1.0, greatest(0.0,
                date_diff('day', campaign."start", params.today) / date_diff('day', campaign."start", campaign.deadline)))
        end as plan_rate
    from campaign, params
),

resident_counts as (
    select
        count(*) as residents,
        count(*) filter (where population_type = '流动人口') as newcomers,
        count(registered_people.person_key) filter (where population_type = '流动人口') as registered
    from residents
    left join registered_people using (person_key)
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
        count(*) filter (where house_type = '出租') as rentals,
        count(*) filter (where house_type = '出租' and archive_status in ('已建档', '已复核')) as rentals_archived
    from houses
),

counts as (
    select
        resident_counts.*,
        (select count(*) from discovered) as discovered,
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
