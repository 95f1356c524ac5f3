-- Rows written straight into `trades` (bulk loads, the benchmarks' seeders, tests that fill the table
-- for the statistics) get a number too, in the format of `domain::trade::number`
-- (TM-<year in Beijing>-<sequence, at least six digits, never cut>) from the same sequence. The
-- market's own use cases keep choosing the number themselves.
create function trade_number_default() returns text language sql volatile as $$
    select 'TM-' || to_char(now() at time zone 'Asia/Shanghai', 'YYYY') || '-'
           || lpad(s::text, greatest(6, length(s::text)), '0')
      from nextval('trade_number_seq') s
$$;
alter table trades alter column number set default trade_number_default();
