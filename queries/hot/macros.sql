-- Macros the metric queries share; created with the in-memory tables, before them.
-- pk(s): person_key (64 hex digits of HMAC-SHA256) as a 128-bit number, a 16-byte join key instead of an
--   80-byte string. Keys that are not hex (never written by ingest) fall back to a 64-bit hash.
create or replace macro pk(s) as coalesce(
    (try_cast('0x' || substr(s, 1, 16) as ubigint)::uhugeint << 64)
        | try_cast('0x' || substr(s, 17, 16) as ubigint)::uhugeint,
    hash(s)::uhugeint);
