-- query: community_share
-- returns: residents, newcomers and the newcomer share of every community, highest share first,
--          with the community's registration rate
-- grain: one row per community
-- key: community_code
-- param community_code: 12-digit community code; null = every community
-- param area: 片区 name; null = all
with params as (
    select
        cast($community_code as varchar) as community_code,
        cast($area as varchar) as area
),

communities as (
    select hot_communities.*
    from hot_communities, params
    where (params.community_code is null or hot_communities.community_code = params.community_code)
        and (params.area is null or hot_communities.area = params.area)
),

residents as (
    select * from hot_residents where status = '在住'
),

registered_people as (
    select person_key from hot_first_registrations
),

-- logic

per_community as (
    select
        residents.community_code,
        count(*) as residents,
        count(*) filter (where population_type = '流动人口') as newcomers,
        count(registered_people.person_key) filter (where population_type = '流动人口') as registered
    from residents
    left join registered_people using (person_key)
    group by residents.community_code
),

final as (
    select
        communities.community_code,
        communities.community_name,
        communities.kind,
        communities.area,
        coalesce(per_community.residents, 0) as residents,
        coalesce(per_community.newcomers, 0) as newcomers,
        per_community.newcomers / nullif(per_community.residents, 0) as newcomer_share,
        coalesce(per_community.registered, 0) as registered,
        per_community.registered / nullif(per_community.newcomers, 0) as registration_rate
    from communities
    left join per_community using (community_code)
)

select * from final
order by newcomer_share desc nulls last, community_code
