-- macros: scope_macros
-- returns: communities_in(wanted_code, wanted_area): the communities under the shared 片区/社区 filter (null =
--   all), a table macro over hot_communities (DuckDB binds it when it is created: after hot_communities)
-- reads: hot_communities
create or replace macro communities_in(wanted_code, wanted_area) as table
    select *
    from hot_communities
    where (wanted_code is null or community_code = cast(wanted_code as varchar))
        and (wanted_area is null or area = cast(wanted_area as varchar));
