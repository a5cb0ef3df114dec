-- statements: roll_sites brought up to date with new scans (the placeholder batch = the new batches'
--             registrations, as hot_registrations rows), run before those rows are appended to
--             hot_registrations: a person adds to a site's people at a level only if no earlier scan has them
--             there
create or replace temp table site_scans as
with scans as (
    select batch.person_key, batch.site, hot_communities.community_code, hot_communities.area
    from {{ batch }} as batch
    join hot_communities using (community_code)
)

select 'community' as level, community_code as scope, site, person_key from scans
union all
select 'area', area, site, person_key from scans
union all
select 'all', '', site, person_key from scans;

-- the earlier scans of the people in the batch (a semi join probing hot_registrations with the few new keys,
-- instead of hashing every scan), at every level
create or replace temp table seen as
with scans as (
    select hot_registrations.person_key, hot_registrations.site, hot_communities.community_code,
        hot_communities.area
    from hot_registrations
    join hot_communities using (community_code)
    where hot_registrations.person_key in (select person_key from site_scans)
)

select 'community' as level, community_code as scope, site, person_key from scans
union all
select 'area', area, site, person_key from scans
union all
select 'all', '', site, person_key from scans;

create or replace table roll_sites as
select level, scope, site, cast(sum(scans) as bigint) as scans, cast(sum(people) as bigint) as people
from (
    select level, scope, site, scans, people from roll_sites
    union all
    select level, scope, site, count(*), 0 from site_scans group by all
    union all
    select level, scope, site, 0, count(*)
    from (select distinct level, scope, site, person_key from site_scans) as pairs
    where not exists (
        select 1 from seen
        where seen.person_key = pairs.person_key
            and seen.level = pairs.level
            and seen.scope is not distinct from pairs.scope
            and seen.site is not distinct from pairs.site
    )
    group by all
)
group by all;
