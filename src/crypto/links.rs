//! Tokens in e-mailed links: signed (HS256 under a key derived from the master key) and bound
//! to one subject and one use. Single use is enforced by the database (`link_tokens`), expiry
//! by the token itself.
//!
//! The JWT header's `kid` names the master key whose link key signed it. Tokens are verified with
//! the key their `kid` names (the current master's, the previous one's, or a stored link key of an
//! earlier master: unsubscribe links live for years); a token without `kid` was signed before ids
//! existed and is tried under each.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a link is for; a token for one kind is refused for any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    SignIn,
    ConfirmConsent,
    Unsubscribe,
    /// "Extend" in a renewal mail.
    Renew,
    /// "Don't extend" in a renewal mail.
    Decline,
    /// Confirms a new address typed at `/me` (sent to the new address).
    ChangeEmail,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::ConfirmConsent => "confirm_consent",
            Self::Unsubscribe => "unsubscribe",
            Self::Renew => "renew",
            Self::Decline => "decline",
            Self::ChangeEmail => "change_email",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// The subject the link acts for.
    pub sub: String,
    /// The `link_tokens` row (single-use kinds) or a random id.
    pub jti: String,
    pub kind: LinkKind,
    /// Purposes the link acts on (unsubscribe, confirmation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
    pub exp: i64,
    /// A confirmation asked of a parent or guardian: the blind index (hex) of their address,
    /// which the confirmation's evidence records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

pub struct LinkSigner {
    kid: String,
    encoding: EncodingKey,
    /// Every key a link may be signed with, by kid; the signing key first.
    decoding: Vec<(String, DecodingKey)>,
}

impl LinkSigner {
    /// Signs (and verifies) with `secret`, named `kid`.
    pub fn new(kid: &str, secret: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_secret(secret),
            decoding: vec![(kid.to_owned(), DecodingKey::from_secret(secret))],
        }
    }

    /// Also accepts links signed with `secret` (named `kid`).
    pub fn accepting(mut self, kid: &str, secret: &[u8; 32]) -> Self {
        if self.decoding.iter().all(|(k, _)| k != kid) {
            self.decoding.push((kid.to_owned(), DecodingKey::from_secret(secret)));
        }
        self
    }

    /// The kid new links carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign(&self, claims: &LinkClaims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Checks signature (under the key the token's `kid` names, or any without one), expiry (no
    /// leeway) and kind.
    pub fn verify(&self, token: &str, kind: LinkKind) -> Result<LinkClaims, LinkError> {
        let kid = jsonwebtoken::decode_header(token).map_err(|_| LinkError::Invalid)?.kid;
        let mut candidates = self.decoding.iter().filter(|(k, _)| kid.as_ref().is_none_or(|kid| kid == k)).peekable();
        let mut outcome = Err(LinkError::Invalid);
        while let Some((_, key)) = candidates.next() {
            outcome = verify_with(token, key);
            if outcome != Err(LinkError::Invalid) || candidates.peek().is_none() {
                break;
            }
        }
        let claims = outcome?;
        if claims.kind == kind { Ok(claims) } else { Err(LinkError::Invalid) }
    }
}

fn verify_with(token: &str, key: &DecodingKey) -> Result<LinkClaims, LinkError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "jti"]);
    Ok(jsonwebtoken::decode::<LinkClaims>(token, key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => LinkError::Expired,
            _ => LinkError::Invalid,
        })?
        .claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(kind: LinkKind, exp: i64) -> LinkClaims {
        LinkClaims { sub: "s".into(), jti: "t".into(), kind, purposes: vec![], exp, guardian: None }
    }

    #[test]
    fn a_link_works_only_for_its_kind_and_until_it_expires() {
        let signer = LinkSigner::new("a", &[3u8; 32]);
        let future = chrono::Utc::now().timestamp() + 900;
        let token = signer.sign(&claims(LinkKind::SignIn, future)).unwrap();
        assert_eq!(signer.verify(&token, LinkKind::SignIn).unwrap().sub, "s");
        assert_eq!(signer.verify(&token, LinkKind::Unsubscribe), Err(LinkError::Invalid));
        let past = signer.sign(&claims(LinkKind::SignIn, chrono::Utc::now().timestamp() - 1)).unwrap();
        assert_eq!(signer.verify(&past, LinkKind::SignIn), Err(LinkError::Expired));
        let other = LinkSigner::new("a", &[4u8; 32]);
        assert_eq!(other.verify(&token, LinkKind::SignIn), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", LinkKind::SignIn), Err(LinkError::Invalid));
    }

    #[test]
    fn links_carry_their_kid_and_open_under_the_key_it_names_or_any_without_one() {
        let future = chrono::Utc::now().timestamp() + 900;
        let old = LinkSigner::new("old", &[3u8; 32]);
        let token = old.sign(&claims(LinkKind::Unsubscribe, future)).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(), Some("old"));
        let rotated = LinkSigner::new("new", &[4u8; 32]).accepting("old", &[3u8; 32]);
        assert_eq!(rotated.verify(&token, LinkKind::Unsubscribe).unwrap().sub, "s");
        assert_eq!(rotated.kid(), "new");
        assert!(rotated.verify(&rotated.sign(&claims(LinkKind::SignIn, future)).unwrap(), LinkKind::SignIn).is_ok());
        assert_eq!(LinkSigner::new("new", &[4u8; 32]).verify(&token, LinkKind::Unsubscribe), Err(LinkError::Invalid));
        // Before ids: no kid in the header, tried under every key.
        let legacy = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(LinkKind::Unsubscribe, future),
            &EncodingKey::from_secret(&[3u8; 32]),
        )
        .unwrap();
        assert!(rotated.verify(&legacy, LinkKind::Unsubscribe).is_ok());
        // A kid naming one key does not open under another.
        let mislabelled = LinkSigner::new("new", &[3u8; 32]).sign(&claims(LinkKind::SignIn, future)).unwrap();
        assert_eq!(rotated.verify(&mislabelled, LinkKind::SignIn), Err(LinkError::Invalid));
    }
}
