//! SQL for: Technology achievements: drafting, review, search.
