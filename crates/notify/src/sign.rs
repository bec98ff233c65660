//! `X-Bulwark-Signature: sha256=<hex HMAC-SHA256 of the body>`: made by the sender, checked
//! by receivers (and the tests) in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header's scheme prefix.
const PREFIX: &str = "sha256=";

/// The `X-Bulwark-Signature` value for `body` signed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (an `X-Bulwark-Signature` value) is the signature of exactly `body` with
/// `secret`. The comparison takes the same time wherever the first difference is.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.trim().strip_prefix(PREFIX) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_signature(
            b"Jefe",
            b"what do ya want for nothing?",
            &sig
        ));
    }

    #[test]
    fn refuses_other_secrets_bodies_and_shapes() {
        let sig = sign(b"secret-secret-secret", b"{}");
        assert!(!verify_signature(b"secret-secret-secreT", b"{}", &sig));
        assert!(!verify_signature(b"secret-secret-secret", b"{ }", &sig));
        assert!(!verify_signature(b"secret-secret-secret", b"{}", &sig[7..]));
        assert!(!verify_signature(
            b"secret-secret-secret",
            b"{}",
            "sha256=zz"
        ));
        assert!(!verify_signature(b"secret-secret-secret", b"{}", "sha256="));
        assert!(!verify_signature(b"secret-secret-secret", b"{}", ""));
    }
}
