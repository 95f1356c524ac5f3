//! techmarket — 成渝技术交易市场.
pub mod domain;
