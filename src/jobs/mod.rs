//! Background jobs: idempotent, batched, safe to kill at any point and run again.

pub mod doctor;
pub mod reminders;
pub mod result_notices;
pub mod retention;
