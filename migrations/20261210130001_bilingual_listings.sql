-- Issue 18 item 6: an optional English title and summary on listings and demands, shown on English
-- pages (the Chinese ones as the fallback) and searched like the rest (the search vectors include
-- them; rows written before keep theirs until they are next written).
alter table listings add column title_en text, add column summary_en text;
alter table demands add column title_en text, add column summary_en text;
