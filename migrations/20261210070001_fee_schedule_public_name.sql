-- Issue 18 item 4: a schedule gets its public name when it is approved; the name it was drafted
-- under is a working title that only administrators see. Null for drafts, rejected schedules and
-- the schedules approved before this (their drafted name is their public one).
-- The immutability trigger lets a draft change only by its decision, which is where this is set.
alter table fee_schedules add column public_name text;
alter table fee_schedules add constraint fee_schedules_public_name_only_approved
    check (public_name is null or status = 'approved');
