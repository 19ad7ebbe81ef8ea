//! Assent: a self-hosted, consent-first form backend.
//!
//! See `ARCHITECTURE.md` at the root of the repository for the shape of the code; in short: `domain` holds
//! the rules (no IO), `db` the storage, `crypto` the keys, `services` the transactions, `web` the
//! HTTP surface, and `startup` puts them together.

pub mod access_cli;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod html;
pub mod i18n;
pub mod jobs;
pub mod keys_cli;
pub mod mail;
pub mod metrics;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod web;
