-- table: roll_sites_all
-- returns: registration scans and distinct people per kind of site over every community of the subdistrict
--          (a person scanned at the same kind of site in two communities counts once: not a sum of roll_sites);
--          kept up to date from each new batch by update_sites.sql
-- grain: one row per site
-- key: site
select site, count(*) as scans, count(distinct person_key) as people
from hot_registrations
where community_code in (select community_code from hot_communities)
group by all
