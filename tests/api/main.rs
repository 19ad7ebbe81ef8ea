#![allow(clippy::unwrap_used)]
//! Black-box tests: every story runs against a real server over real HTTP, once on SQLite and
//! once on PostgreSQL.

mod admin_helpers;
mod helpers;
mod server_process;

mod access;
mod admin_auth;
mod admin_builder;
mod admin_data;
mod api_submissions;
mod backup;
mod bad_input;
mod bulk_check;
mod bundle;
mod cli;
mod concurrency;
mod consents_api;
mod deadlines;
mod deidentified;
mod doctor;
mod doi;
mod door;
mod durability;
mod embedding;
mod export_roundtrip;
mod headers;
mod hostile;
mod import;
mod import_console;
mod integration;
mod japanese;
mod keys;
mod languages;
mod ledger;
mod logs;
mod metrics;
mod night_time;
mod openapi;
mod preferences;
mod privacy;
mod public_form;
mod rate_limits;
mod receipts;
mod restore;
mod result_notices;
mod retention;
mod rights_desk;
mod rights_desk_console;
mod subjects_api;
mod transparency;
mod upgrade;
mod webhooks;
mod webhooks_managed;
mod witness;
mod workspace;
