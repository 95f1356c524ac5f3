-- Login throttling counts only failures (API.md). An attempt is written `pending` while its password
-- is checked, then deleted (success, or refused unchecked) or kept as a failure (`pending` false).
-- Rows written before this migration are failures.
alter table login_failures add column pending boolean not null default false;
