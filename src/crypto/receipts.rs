//! Consent receipts: JWTs signed with Ed25519 (EdDSA), verifiable by anyone from the public key
//! published at `/.well-known/jwks.json`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct ReceiptSigner {
    /// Built once: `jsonwebtoken::encode` rebuilds an Ed25519 key from its PKCS#8 form on every
    /// call (a second scalar multiplication per receipt, 9 % of a busy server's signups).
    signing: SigningKey,
    /// The JOSE header every receipt carries, base64url-encoded once.
    header: String,
    decoding: DecodingKey,
    kid: String,
    public_x: String,
}

#[derive(Debug, thiserror::Error)]
#[error("receipt is not valid: {0}")]
pub struct ReceiptVerifyError(#[from] jsonwebtoken::errors::Error);

impl ReceiptSigner {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let public = signing.verifying_key().to_bytes();
        let public_x = B64URL.encode(public);
        let kid = super::sha256_hex(&public)[..16].to_owned();
        let decoding = DecodingKey::from_ed_components(&public_x).unwrap_or_else(|_| DecodingKey::from_secret(&[]));
        // Serialising jsonwebtoken's own header type cannot fail.
        let header = B64URL.encode(serde_json::to_vec(&header(&kid)).unwrap_or_default());
        Self { signing, header, decoding, kid, public_x }
    }

    /// A JWS in compact form (RFC 7515 §7.1), exactly what `jsonwebtoken::encode` makes with the
    /// same header and key (Ed25519 signatures are deterministic; a test holds them equal), and
    /// verified by it.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        use ed25519_dalek::Signer as _;
        let mut token = format!("{}.{}", self.header, B64URL.encode(serde_json::to_vec(claims)?));
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        B64URL.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, ReceiptVerifyError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Ok(jsonwebtoken::decode::<T>(token, &self.decoding, &validation)?.claims)
    }

    /// The id receipts signed with this key carry (`kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JSON Web Key Set with the public key (RFC 8037 OKP key).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [jwk(&self.kid, &self.public_x)] })
    }
}

fn header(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some("consent-receipt+jwt".into());
    header
}

fn jwk(kid: &str, x: &str) -> serde_json::Value {
    serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x })
}

/// The JSON Web Key Set of these keys (raw public keys, base64), each with its `kid`.
pub fn jwks_of<'a>(keys: impl IntoIterator<Item = &'a super::StoredSigningKey>) -> serde_json::Value {
    use base64::engine::general_purpose::STANDARD;
    let keys: Vec<serde_json::Value> = keys
        .into_iter()
        .filter_map(|k| Some(jwk(&k.key_id, &B64URL.encode(STANDARD.decode(&k.public_key).ok()?))))
        .collect();
    serde_json::json!({ "keys": keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Claims {
        sub: String,
    }

    #[test]
    fn a_signed_receipt_verifies_and_a_forged_one_does_not() {
        let signer = ReceiptSigner::from_seed(&[1u8; 32]);
        let token = signer.sign(&Claims { sub: "s1".into() }).unwrap();
        assert_eq!(signer.verify::<Claims>(&token).unwrap(), Claims { sub: "s1".into() });
        let other = ReceiptSigner::from_seed(&[2u8; 32]);
        assert!(other.verify::<Claims>(&token).is_err());
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(signer.verify::<Claims>(&forged).is_err());
    }

    #[test]
    fn a_receipt_is_byte_for_byte_what_jsonwebtoken_signs() {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let signer = ReceiptSigner::from_seed(&[7u8; 32]);
        let der = SigningKey::from_bytes(&[7u8; 32]).to_pkcs8_der().unwrap();
        let key = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
        let claims = Claims { sub: "s1 \"quoted\" 한글".into() };
        let theirs = jsonwebtoken::encode(&header(signer.kid()), &claims, &key).unwrap();
        assert_eq!(signer.sign(&claims).unwrap(), theirs);
        let decoded = jsonwebtoken::decode_header(&theirs).unwrap();
        assert_eq!((decoded.typ.as_deref(), decoded.kid.as_deref()), (Some("consent-receipt+jwt"), Some(signer.kid())));
    }

    #[test]
    fn jwks_publishes_an_okp_key() {
        let jwks = ReceiptSigner::from_seed(&[1u8; 32]).jwks();
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["x"].as_str().unwrap().len(), 43);
    }
}
