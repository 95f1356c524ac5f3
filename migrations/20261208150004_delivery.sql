-- Delivery and acceptance (issue 15): after payment the seller records delivery; the buyer confirms
-- within the acceptance period of the listing's exchange (default 15 days), else a job settles it.
alter table trades drop constraint trades_status_check;
alter table trades add constraint trades_status_check
    check (status in ('awaiting_payment', 'paid', 'delivered', 'settled', 'cancelled'));
alter table trades add column delivered_at timestamptz;
alter table trades add column delivery_note text;
alter table trades add column acceptance_due_at timestamptz;
-- `buyer` (confirmed) or `acceptance_period` (settled by the job at the end of the period).
alter table trades add column settled_by text;
create index trades_acceptance_due on trades (acceptance_due_at) where status = 'delivered';
alter table exchanges add column acceptance_days integer not null default 15
    check (acceptance_days between 1 and 90);
