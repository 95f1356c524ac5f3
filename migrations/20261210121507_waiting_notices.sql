-- Issue 18: an exchange may refuse to verify an organisation, with a reason the organisation is told.
-- A refused organisation leaves the verification queue (it may still be verified later).
alter table organizations add column refused_at timestamptz, add column refused_reason text;

