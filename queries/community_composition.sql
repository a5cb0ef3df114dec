-- query: community_composition
-- returns: the newcomers broken down by 来源地 (本市, 本省其他市, or the home province), 原因, 年龄段 and 性别,
--          each category's share within its dimension
-- grain: one row per dimension and category
-- key: dimension, category
-- param community_code: 12-digit community code; null = the whole subdistrict
-- param area: 片区 name; null = all
-- param now: the clock time ("now"), for ages in whole years (year of now − birth year: only the year is
--   kept, not the date); the runner fills it in when not given
with params as (
    select
        year(cast($now as timestamp)) as this_year
),

communities as (
    select * from communities_in($community_code, $area)
),

categories as (
    select * from roll_composition
    where community_code in (select community_code from communities)
),

birth_years as (
    select * from roll_birth_years
    where community_code in (select community_code from communities)
),

-- logic

-- a count per birth year (summed over the communities), then its age this year
described as (
    select by_birth_year.*, params.this_year - by_birth_year.birth_year as age
    from (select birth_year, sum(newcomers) as newcomers from birth_years group by birth_year) as by_birth_year
    cross join params
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
    select dimension_order, dimension, category, 0 as category_order, newcomers from categories
    union all
    select 3, '年龄段', age_band, age_order, newcomers from banded
),

counted as (
    select dimension_order, dimension, category, category_order, cast(sum(newcomers) as bigint) as newcomers
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
