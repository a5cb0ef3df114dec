-- macros: scalar_macros
-- returns: the scalar macros the models and the metric queries share; created before every model.
--   pk(s): person_key (64 hex digits of HMAC-SHA256) as a 128-bit number, a 16-byte join key instead of an
--   80-byte string (keys that are not hex, never written by ingest, fall back to a 64-bit hash).
--   plan_fraction(start, deadline, day): the share of the target the plan expects by `day`
--   (DATA_CONTRACT.md §6: min(1, max(0, (day − start) / (deadline − start))); a deadline on or before the
--   start means all of it from the deadline on).
-- reads: -
create or replace macro pk(s) as coalesce(
    (try_cast('0x' || substr(s, 1, 16) as ubigint)::uhugeint << 64)
        | try_cast('0x' || substr(s, 17, 16) as ubigint)::uhugeint,
    hash(s)::uhugeint);

create or replace macro plan_fraction(start_day, deadline, day) as case
    when deadline <= start_day then case when day >= deadline then 1.0 else 0.0 end
    else least(1.0, greatest(0.0, date_diff('day', start_day, day) / date_diff('day', start_day, deadline)))
end;
