-- statements: the person-level flags (hot_first_registrations, hot_newcomers.registered) and the rollups that
--             depend on them, brought up to date with new scans (the placeholder batch = the new batches'
--             registrations, as hot_registrations rows) without a rebuild
create or replace temp table new_first as
select
    person_key,
    min(scanned_at) as first_scanned_at,
    arg_min(community_code, scanned_at) as community_code
from {{ batch }}
group by person_key;

create or replace temp table changed as
select
    new_first.person_key,
    old.person_key is null as is_new,
    old.first_day as old_day,
    old.community_code as old_community,
    cast(new_first.first_scanned_at as date) as new_day,
    new_first.community_code as new_community,
    hot_residents.person_key is not null as living,
    coalesce(hot_residents.newcomer, false) as newcomer,
    hot_residents.community_code as home_community,
    hot_residents.unit_id
from new_first
left join hot_first_registrations as old using (person_key)
left join hot_residents using (person_key)
where old.person_key is null or new_first.first_scanned_at < old.first_scanned_at;

update hot_first_registrations
set first_scanned_at = new_first.first_scanned_at,
    first_day = cast(new_first.first_scanned_at as date),
    community_code = new_first.community_code
from new_first
where hot_first_registrations.person_key = new_first.person_key
    and new_first.first_scanned_at < hot_first_registrations.first_scanned_at;

insert into hot_first_registrations
select person_key, first_scanned_at, cast(first_scanned_at as date), community_code
from new_first
where person_key in (select person_key from changed where is_new);

-- a living newcomer's first registration takes them off the door-to-door list (flags only go one way: a
-- registration, once accepted, stays)
update hot_newcomers
set registered = true
where person_key in (select person_key from changed where is_new and newcomer);

create or replace table roll_units as
select community_code, unit_id, first_day, cast(sum(newcomers) as bigint) as newcomers
from (
    select community_code, unit_id, first_day, newcomers from roll_units
    union all
    select home_community, unit_id, old_day, -1 from changed where newcomer
    union all
    select home_community, unit_id, new_day, 1 from changed where newcomer
)
group by all
having sum(newcomers) <> 0;

create or replace table roll_discovered as
select community_code, cast(sum(discovered) as bigint) as discovered
from (
    select community_code, discovered from roll_discovered
    union all
    select old_community, -1 from changed where not living and not is_new
    union all
    select new_community, 1 from changed where not living
)
group by all
having sum(discovered) <> 0;
