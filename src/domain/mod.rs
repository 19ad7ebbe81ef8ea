//! The rules of consent, with no IO and no framework types.
//!
//! Everything that is easy to get wrong lives here as plain functions with unit tests: what a valid
//! submission is, which values may be stored given the granted purposes, when a consent expires,
//! and how the ledger chains its events.

pub mod access;
pub mod codes;
pub mod consent;
pub mod console_access;
pub mod deidentify;
pub mod disclosure;
pub mod doctor;
pub mod email;
pub mod form;
pub mod form_errors;
pub mod gpc;
pub mod ids;
pub mod import;
pub mod keys;
pub mod ledger;
pub mod lifecycle;
pub mod locale;
pub mod merkle;
pub mod minors;
pub mod obligation;
pub mod origin;
pub mod owner;
pub mod provision;
pub mod purpose;
pub mod restore;
pub mod rights;
pub mod scopes;
pub mod second_factor;
pub mod texts;
pub mod time_text;
pub mod tree_head;
pub mod webhooks;
pub mod wording;

pub use codes::ErrorCode;
pub use consent::{ConsentAction, ConsentStatus, Evidence, Method};
pub use disclosure::{Controller, PurposeCategory};
pub use email::Email;
pub use form::{AcceptedSubmission, FieldDefinition, FieldError, FieldType, FormDefinition, Localized};
pub use ids::SubjectId;
pub use keys::{FieldKey, FormKey, PurposeKey};
pub use locale::{Locale, Locales};
pub use obligation::Obligation;
pub use purpose::{BundledConsent, Channel, LegalBasis, Retention};
