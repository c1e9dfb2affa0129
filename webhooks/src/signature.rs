//! Signatures as the Standard Webhooks specification defines them, so receivers can verify us
//! with its libraries: `v1,` and the base64 of HMAC-SHA256, keyed by the secret's bytes, over
//! `<webhook-id>.<webhook-timestamp>.<body>`.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header of one attempt.
pub fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::sign;

    #[test]
    fn the_specifications_test_vector_is_reproduced() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap();
        let signature = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_signed_part_counts() {
        let base = sign(b"key", "msg_1", 1, b"{}");
        assert_ne!(base, sign(b"kez", "msg_1", 1, b"{}"));
        assert_ne!(base, sign(b"key", "msg_2", 1, b"{}"));
        assert_ne!(base, sign(b"key", "msg_1", 2, b"{}"));
        assert_ne!(base, sign(b"key", "msg_1", 1, b"{ }"));
    }
}
