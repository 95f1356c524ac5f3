-- Matching takes the newest few listings (open demands) of each nearby field: one index walk per field.
create index listings_field_newest on listings (field, listed_at desc) where status = 'listed';
create index demands_field_newest on demands (field, created_at desc) where status = 'open';
