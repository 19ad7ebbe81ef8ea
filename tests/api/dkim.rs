//! DKIM: with a key configured, every message is signed for the From domain, and a real verifier
//! (dkimpy, given the public key as the DNS answer for `assent._domainkey.assent.test`) accepts
//! the mail as delivered; the signature names the one-click unsubscribe headers (RFC 8058 §4).

use crate::helpers::*;

/// Writes a 2048-bit RSA key (PKCS#1 PEM) to argv[1]; prints the public key for the DNS record.
const NEW_KEY: &str = r#"
import sys, base64
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization as s
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
open(sys.argv[1], "wb").write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()))
print(base64.b64encode(key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)).decode())
"#;

/// Verifies the mail on stdin, answering the key lookup with argv[1]; prints what was asked.
const VERIFY: &str = r#"
import sys, dkim
def dns(name, timeout=5):
    print("asked", name.decode() if isinstance(name, bytes) else name)
    return ("v=DKIM1; k=rsa; p=" + sys.argv[1]).encode()
raw = sys.stdin.buffer.read()
sys.exit(0 if dkim.verify(raw, dnsfunc=dns) else 1)
"#;

fn python(script: &str, args: &[&str], stdin: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (with the cryptography and dkimpy packages)");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

#[tokio::test]
async fn mail_is_dkim_signed_and_a_real_verifier_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dkim.pem");
    let (made, public) = python(NEW_KEY, &[key_file.to_str().unwrap()], b"");
    assert!(made, "{public}");
    let key = assent::mail::dkim::DkimKey::from_file(key_file.to_str().unwrap()).expect("a PKCS#1 key reads");
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.dkim = assent::mail::dkim::Dkim::new("assent", "assent.test", &key);
    })
    .await
    .unwrap();
    // A confirmation mail with one-click unsubscribe headers.
    let (_, mail) = crate::doi::pending_sms(&app).await;
    let signature = mail.raw.split("DKIM-Signature:").nth(1).expect("a DKIM-Signature header").to_owned();
    let names: String = signature.split(" h=").nth(1).unwrap().split(';').next().unwrap().split_whitespace().collect();
    assert!(
        names.contains("from:to:subject:date:message-id") && names.contains("list-unsubscribe:list-unsubscribe-post"),
        "{names}"
    );
    assert!(signature.contains("d=assent.test") && signature.contains("s=assent"), "{signature}");
    let (verified, said) = python(VERIFY, &[public.trim()], mail.raw.as_bytes());
    assert!(verified, "dkimpy refused the signature: {said}");
    assert!(said.contains("assent._domainkey.assent.test"), "{said}");

    // A key in any other form is refused at start-up, saying which form it wants.
    std::fs::write(&key_file, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let refused = assent::mail::dkim::DkimKey::from_file(key_file.to_str().unwrap()).err().unwrap();
    assert!(refused.contains("openssl genrsa -traditional"), "{refused}");
}
