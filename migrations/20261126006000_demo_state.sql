-- Demo loading (`serve --demo`, `seed demo`) records here that it finished. A process killed
-- half-way through leaves no row, so the next start runs the (idempotent) demo steps again instead
-- of taking the half-loaded demo for a whole one.
create table demo_state (
    step     text primary key,
    done_at  timestamptz not null default now()
);
