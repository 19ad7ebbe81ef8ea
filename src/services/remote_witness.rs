//! A witness on another machine (`ASSENT_WITNESS_URL`): every signed tree head is POSTed to it
//! as JSON (the body `GET /.well-known/assent/tree-head` answers: the head, the signed message and
//! the public key), besides the witness file in the data folder. A witness that keeps what it
//! receives holds heads the database's administrators cannot reach.
//!
//! Posting never holds up signing: a head that could not be delivered is retried at the next
//! signing tick (every minute while the server runs), and only the newest head is sent, since
//! it commits to every earlier one (the witness can ask for a consistency proof).

use std::sync::Mutex;
use std::time::Duration;

use crate::domain::tree_head::TreeHead;

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct RemoteWitness {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The newest head the witness accepted, by [`TreeHead::order_key`] (the ledger's size, then
    /// the access records').
    delivered: Mutex<(u64, u64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("ASSENT_WITNESS_URL must be an absolute http(s) URL, not {0}")]
    BadUrl(String),
    #[error("the witness could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the witness refused the head: HTTP {0}")]
    Refused(u16),
}

/// The JSON of a signed head as published: the head, the bytes signed, the public key.
pub fn published(head: &TreeHead, public_key: &str) -> serde_json::Value {
    let mut body = serde_json::to_value(head).unwrap_or_default();
    if let Some(fields) = body.as_object_mut() {
        fields.insert("message".into(), String::from_utf8_lossy(&head.signed_message()).into_owned().into());
        fields.insert("public_key".into(), public_key.into());
    }
    body
}

impl RemoteWitness {
    pub fn new(url: &str) -> Result<Self, WitnessError> {
        let parsed = reqwest::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| WitnessError::BadUrl(url.to_owned()))?;
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self { client, url: parsed, delivered: Mutex::new((0, 0)) })
    }

    /// Posts `head` unless the witness already accepted it or a later one; `true` when this call
    /// delivered it.
    pub async fn deliver(&self, head: &TreeHead, public_key: &str) -> Result<bool, WitnessError> {
        if head.order_key() <= *self.delivered.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(false);
        }
        let response = self.client.post(self.url.clone()).json(&published(head, public_key)).send().await?;
        if !response.status().is_success() {
            return Err(WitnessError::Refused(response.status().as_u16()));
        }
        let mut delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        *delivered = (*delivered).max(head.order_key());
        Ok(true)
    }
}
