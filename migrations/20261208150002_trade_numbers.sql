-- Readable trade numbers (TM-2026-000123): one sequence for every process, the number fixed when
-- the trade is created and used on pages, statements, exports and as the payment reference.
create sequence trade_number_seq;
alter table trades add column number text;
with o as (select id, created_at, row_number() over (order by created_at, id) as n from trades)
update trades t
   set number = 'TM-' || to_char(o.created_at at time zone 'Asia/Shanghai', 'YYYY') || '-'
                || lpad(o.n::text, greatest(6, length(o.n::text)), '0')
  from o where o.id = t.id;
select setval('trade_number_seq', greatest((select count(*) from trades), 1), (select count(*) from trades) > 0);
alter table trades alter column number set not null;
create unique index trades_number on trades (number);
