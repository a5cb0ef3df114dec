-- table: roll_sites
-- returns: registration scans and distinct people per community of the scanning unit and kind of site; exact
--          for one community (a person counts once per community and site); kept up to date from each new
--          batch by update_sites.sql
-- grain: one row per community and site
-- key: community_code, site
select community_code, site, count(*) as scans, count(distinct person_key) as people
from hot_registrations
group by all
