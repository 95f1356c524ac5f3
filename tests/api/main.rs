//! One integration test binary against the real PostgreSQL: a module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod python;
mod server;

mod accounts;
mod admin;
mod architecture;
mod authz;
mod bench;
mod contract;
mod demands;
mod experts;
mod fees;
mod fuzz;
mod home;
mod hostile_input;
mod interconnect;
mod listings;
mod login_flood;
mod match_index;
mod match_profiles;
mod matching_eval;
mod organization;
mod outside;
mod pages;
mod pledges;
mod process;
mod resilience;
mod robustness;
mod settlement;
mod stats;
mod stories;
mod trading;
mod two_factor;

mod brokers;
mod migrations;
mod waiting;
