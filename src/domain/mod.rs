//! Pure market rules: no I/O, no clock, no framework. Everything here is a plain function or type.

/// Capital numerals (大写) for confirmations, and the outlier rule for amounts.
pub mod amounts;
/// English auctions: minimum next bid, anti-sniping extension, reserve, validation.
pub mod auction;
/// Technology brokers: the commission rule and what a brokered settlement posts.
pub mod brokers;
/// Transaction certificates (交易鉴证书): canonical content, HMAC seal, numbers.
pub mod certificate;
/// Code lists of the API: province, organisation kind, exchange, field, IP type, modes, roles, TRL.
pub mod codes;
/// 统一社会信用代码 (GB 32100-2015): parsing and the check character.
pub mod credit_code;
/// Disputes and payouts: what each decision gives each party, and their ledger postings.
pub mod dispute;
/// Listing documents: accepted kinds by content, limits, download names.
pub mod documents;
/// Likely duplicate listings: how alike two titles are.
pub mod duplicates;
/// Field-level validation errors carrying translation keys.
pub mod error;
/// Expert evaluations of listings: panel size, scores, when a panel closes, medians and spread.
pub mod evaluation;
/// Transaction service fees: marginal band schedules, validation, the legacy and unified tables.
pub mod fees;
/// Interconnection: API key scopes, webhook event types, signatures, retries, allowed targets.
pub mod interconnect;
/// Double-entry postings for payment and settlement; the ledger's SHA-256 hash chain.
pub mod ledger;
/// Lifecycle states of listings, trades, offers and auctions.
pub mod listing;
/// Demand ↔ listing matching: a 0–100 score with reasons (field, keywords, budget, maturity, region).
pub mod matching;
/// Money in integer fen: parsing typed yuan amounts (万, 亿, full-width) and formatting.
pub mod money;
/// A trade's money movements read back from its ledger postings (payment, fees, share, refund, payouts).
pub mod movements;
/// Input normalisation shared by the parsers (full-width forms).
pub mod normalize;
/// Colleagues in one organisation: invitations (once, 7 days, their address) and the last owner.
pub mod organization;
/// Two-factor sign-in: TOTP codes (RFC 6238), their window and replay rule, recovery codes.
pub mod otp;
/// Chinese patent application numbers: parsing, check character, fit with the IP type.
pub mod patent;
/// IP pledge financing: what may be pledged, what a pledge locks, the median of comparable prices.
pub mod pledge;
/// Relevance of a listing's text to a demand's text through the vocabulary: units, profiles, bridges.
pub mod relevance;
/// A fee schedule's public name, given at approval (the draft's working title stays internal).
pub mod schedule_name;
/// Market statistics: settled trades and listed listings folded into sums (months, fields, flows, savings).
pub mod stats;
/// Search tokens: tsvector and tsquery literals for Chinese and English text, computed in Rust.
pub mod text;
/// A trade after it is made: its readable number (TM-2026-000123) and payment deadline.
pub mod trade;
/// The bilingual technology vocabulary (data/vocabulary): concepts, relations, analysis of a text into concepts.
pub mod vocabulary;
