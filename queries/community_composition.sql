-- query: community_composition
-- returns: the newcomers broken down by 来源地 (本市, 本省其他市, or the home province), 原因, 年龄段 and 性别,
--          each category's share within its dimension
-- grain: one row per dimension and category
-- key: dimension, category
-- param community_code: 12-digit community code; null = the whole subdistrict
-- param area: 片区 name; null = all
-- param now: the clock time ("now"), for ages; the runner fills it in when not given
with params as (
    select
        cast($community_code as varchar) as community_code,
        cast($area as varchar) as area,
        cast(cast($now as timestamp) as date) as today
),

communities as (
    select hot_communities.*
    from hot_communities, params
    where (params.community_code is null or hot_communities.community_code = params.community_code)
        and (params.area is null or hot_communities.area = params.area)
),

newcomers as (
    select * from hot_newcomers
    where community_code in (select community_code from communities)
),

provinces as (
    select * from hot_provinces
),

-- logic

described as (
    select
        case
            when newcomers.home_region like '3702%' then '本市（青岛）'
            when newcomers.home_region like '37%' then '本省其他市'
            else coalesce(provinces.province_name, '未知')
        end as origin,
        coalesce(newcomers.reason, '未填写') as reason,
        date_sub('year', newcomers.birth_date, params.today) as age,
        coalesce(newcomers.gender, '未知') as gender
    from newcomers
    cross join params
    left join provinces on provinces.province_code = left(newcomers.home_region, 2)
),

banded as (
    select
        *,
        case
            when age is null then '未知'
            when age < 18 then '17岁及以下'
            when age < 30 then '18–29岁'
            when age < 45 then '30–44岁'
            when age < 60 then '45–59岁'
            else '60岁及以上'
        end as age_band,
        case
            when age is null then 9
            when age < 18 then 1
            when age < 30 then 2
            when age < 45 then 3
            when age < 60 then 4
            else 5
        end as age_order
    from described
),

long as (
    select 1 as dimension_order, '来源地' as dimension, origin as category, 0 as category_order from banded
    union all
    select 2, '原因', reason, 0 from banded
    union all
    select 3, '年龄段', age_band, age_order from banded
    union all
    select 4, '性别', gender, 0 from banded
),

counted as (
    select dimension_order, dimension, category, category_order, count(*) as newcomers
    from long
    group by all
),

final as (
    select
        dimension,
        category,
        newcomers,
        newcomers / sum(newcomers) over (partition by dimension) as share,
        dimension_order,
        category_order
    from counted
)

select * exclude (dimension_order, category_order) from final
order by dimension_order, category_order, newcomers desc, category
