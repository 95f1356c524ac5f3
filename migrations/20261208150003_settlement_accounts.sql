-- Each exchange's settlement bank account (where buyers pay; set by its admins), and when a
-- trade's payment reminder was sent (once, before the payment deadline).
create table settlement_accounts (
    exchange        text primary key references exchanges (code),
    bank            text not null check (length(bank) between 1 and 200),
    account_name    text not null check (length(account_name) between 1 and 200),
    account_number  text not null check (length(account_number) between 1 and 64),
    updated_at      timestamptz not null default now(),
    updated_by      uuid references users (id)
);
-- Illustrative accounts (示例) until each exchange's admins set the real one.
insert into settlement_accounts (exchange, bank, account_name, account_number)
select code, '示例银行成都分行（示例）', name_zh || '结算专户（示例）',
       '6222 0000 ' || lpad((row_number() over (order by code))::text, 4, '0') || ' 0000'
  from exchanges;

alter table trades add column payment_reminded_at timestamptz;
