//! Tokens in e-mailed links: signed (HS256 under a key derived from the master key) and bound
//! to one subject and one use. Single use is enforced by the database (`link_tokens`), expiry
//! by the token itself.

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
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::ConfirmConsent => "confirm_consent",
            Self::Unsubscribe => "unsubscribe",
            Self::Renew => "renew",
            Self::Decline => "decline",
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

pub struct LinkSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl LinkSigner {
    pub fn new(secret: &[u8; 32]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn sign(&self, claims: &LinkClaims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Checks signature, expiry (no leeway) and kind.
    pub fn verify(&self, token: &str, kind: LinkKind) -> Result<LinkClaims, LinkError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "jti"]);
        let claims = jsonwebtoken::decode::<LinkClaims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => LinkError::Expired,
                _ => LinkError::Invalid,
            })?
            .claims;
        if claims.kind == kind { Ok(claims) } else { Err(LinkError::Invalid) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(kind: LinkKind, exp: i64) -> LinkClaims {
        LinkClaims { sub: "s".into(), jti: "t".into(), kind, purposes: vec![], exp }
    }

    #[test]
    fn a_link_works_only_for_its_kind_and_until_it_expires() {
        let signer = LinkSigner::new(&[3u8; 32]);
        let future = chrono::Utc::now().timestamp() + 900;
        let token = signer.sign(&claims(LinkKind::SignIn, future)).unwrap();
        assert_eq!(signer.verify(&token, LinkKind::SignIn).unwrap().sub, "s");
        assert_eq!(signer.verify(&token, LinkKind::Unsubscribe), Err(LinkError::Invalid));
        let past = signer.sign(&claims(LinkKind::SignIn, chrono::Utc::now().timestamp() - 1)).unwrap();
        assert_eq!(signer.verify(&past, LinkKind::SignIn), Err(LinkError::Expired));
        let other = LinkSigner::new(&[4u8; 32]);
        assert_eq!(other.verify(&token, LinkKind::SignIn), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", LinkKind::SignIn), Err(LinkError::Invalid));
    }
}
