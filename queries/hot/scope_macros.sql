-- Table macros over the in-memory reference tables; created (again) whenever those tables are reloaded.
-- communities_in(wanted_code, wanted_area): the communities under the shared 片区/社区 filter (null = all).
create or replace macro communities_in(wanted_code, wanted_area) as table
    select *
    from hot_communities
    where (wanted_code is null or community_code = cast(wanted_code as varchar))
        and (wanted_area is null or area = cast(wanted_area as varchar));
