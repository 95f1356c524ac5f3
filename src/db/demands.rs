//! SQL for: Technology demands and matching.
