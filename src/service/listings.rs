//! Technology achievements: drafting, review, search.
