-- model: hot_campaign
-- returns: the registration campaign: start, deadline, target rate, copied whole into memory (a few thousand rows at most)
-- grain: one row (the campaign)
-- key: campaign_name
-- reads: stg_campaign
-- materialized: snapshot
select * from stg_campaign
