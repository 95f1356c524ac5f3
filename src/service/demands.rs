//! Technology demands and matching.
