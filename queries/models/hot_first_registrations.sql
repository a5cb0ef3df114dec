-- model: hot_first_registrations
-- returns: person-level registration flags: the first accepted scan of every registered person and the
--          community of the unit that took it
-- grain: one row per registered person
-- key: person_key
-- reads: hot_registrations
-- materialized: append
-- incremental: upsert
select
    person_key,
    min(scanned_at) as first_scanned_at,
    cast(min(scanned_at) as date) as first_day,
    arg_min(community_code, scanned_at) as community_code
from hot_registrations
group by person_key

-- @incremental: people registering for the first time, and people whose new scan is earlier than the first
--   one known (a late file): their row replaces the old one
with arrived as (
    select
        person_key,
        min(scanned_at) as first_scanned_at,
        arg_min(community_code, scanned_at) as community_code
    from new_hot_registrations
    group by person_key
),

-- the few people of the new scans looked up, not every registered person hashed
known as (
    select person_key, first_scanned_at
    from hot_first_registrations
    where person_key in (select person_key from arrived)
)

select
    arrived.person_key,
    arrived.first_scanned_at,
    cast(arrived.first_scanned_at as date) as first_day,
    arrived.community_code
from arrived
left join known using (person_key)
where known.person_key is null or arrived.first_scanned_at < known.first_scanned_at
