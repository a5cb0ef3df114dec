-- statements: roll_sites and roll_sites_all brought up to date with new scans (the placeholder batch = the new
--             batches' registrations, as hot_registrations rows), run before those rows are appended to
--             hot_registrations: a person adds to a site's people only if no earlier scan has them there
create or replace temp table site_people as
select distinct community_code, site, person_key from {{ batch }};

-- the earlier scans of the people in the batch (a semi join probing hot_registrations with the few new keys,
-- instead of hashing every scan)
create or replace temp table seen as
select distinct community_code, site, person_key
from hot_registrations
where person_key in (select person_key from site_people);

create or replace table roll_sites as
select community_code, site, cast(sum(scans) as bigint) as scans, cast(sum(people) as bigint) as people
from (
    select community_code, site, scans, people from roll_sites
    union all
    select community_code, site, count(*), 0 from {{ batch }} group by all
    union all
    select community_code, site, 0, count(*)
    from site_people
    where not exists (
        select 1 from seen
        where seen.person_key = site_people.person_key
            and seen.site is not distinct from site_people.site
            and seen.community_code is not distinct from site_people.community_code
    )
    group by all
)
group by all;

create or replace table roll_sites_all as
select site, cast(sum(scans) as bigint) as scans, cast(sum(people) as bigint) as people
from (
    select site, scans, people from roll_sites_all
    union all
    select site, count(*), 0
    from {{ batch }}
    where community_code in (select community_code from hot_communities)
    group by all
    union all
    select site, 0, count(*)
    from (
        select distinct site, person_key from site_people
        where community_code in (select community_code from hot_communities)
    ) as new_pairs
    where not exists (
        select 1 from seen
        where seen.person_key = new_pairs.person_key
            and seen.site is not distinct from new_pairs.site
            and seen.community_code in (select community_code from hot_communities)
    )
    group by all
)
group by all;
