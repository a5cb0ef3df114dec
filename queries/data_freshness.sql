-- query: data_freshness
-- returns: for each feed, the last file that arrived, the rows in use, rows refused, held snapshots,
--          and a status in Chinese (正常, 有待确认快照, 最近文件被拒收, 无可用数据, 无数据)
-- grain: one row per feed
-- key: feed
with manifest as (
    select * from hot_manifest
),

feeds as (
    select * from (values
        (1, 'residents', '实有人口', 'snapshot'),
        (2, 'houses', '实有房屋', 'snapshot'),
        (3, 'registrations', '一家亲扫码登记', 'increment'),
        (4, 'source_records', '部门共享数据', 'increment')
    ) as t(sort_order, feed, feed_label, kind)
),

-- logic

per_feed as (
    select
        feed,
        arg_max(file_name, ingested_at) as last_file,
        max(ingested_at) as last_ingested_at,
        arg_max(outcome, ingested_at) as last_outcome,
        sum(accepted) filter (where is_current) as rows,
        max(ingested_at) filter (where is_current) as current_since,
        sum(quarantined) as quarantined_rows,
        count(*) filter (where outcome = 'refused') as refused_files,
        count(*) filter (where outcome = 'held' and not is_accepted) as held_batches
    from manifest
    group by feed
),

final as (
    select
        feeds.feed,
        feeds.feed_label,
        feeds.kind,
        per_feed.last_file,
        per_feed.last_ingested_at,
        per_feed.current_since,
        cast(coalesce(per_feed.rows, 0) as bigint) as rows,
        cast(coalesce(per_feed.quarantined_rows, 0) as bigint) as quarantined_rows,
        coalesce(per_feed.refused_files, 0) as refused_files,
        coalesce(per_feed.held_batches, 0) as held_batches,
        case
            when per_feed.last_ingested_at is null then '无数据'
            when per_feed.held_batches > 0 then '有待确认快照'
            when per_feed.last_outcome = 'refused' then '最近文件被拒收'
            when per_feed.current_since is null then '无可用数据'
            else '正常'
        end as status,
        feeds.sort_order
    from feeds
    left join per_feed using (feed)
)

select * exclude (sort_order) from final
order by sort_order
