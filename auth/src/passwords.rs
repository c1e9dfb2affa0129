use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// bcrypt hashing on a blocking thread: a hash at cost 12 takes a few hundred milliseconds,
/// which would stall every other task on an async worker.
#[derive(Debug, Clone, Copy)]
pub struct Passwords {
    cost: u32,
}

/// bcrypt reads at most this many bytes of a password.
const BCRYPT_MAX_BYTES: usize = 72;

/// What bcrypt is given for `password`: the password itself when bcrypt reads all of it, else
/// the base64 of its SHA-256 (44 bytes), so that a long password counts whole and is never
/// truncated. Which form a password takes depends on its length alone, so hashing and
/// verifying always agree, and every password of 72 bytes or fewer hashes as it always did.
fn bcrypt_input(password: &str) -> Cow<'_, [u8]> {
    if password.len() <= BCRYPT_MAX_BYTES {
        Cow::Borrowed(password.as_bytes())
    } else {
        Cow::Owned(STANDARD.encode(Sha256::digest(password)).into_bytes())
    }
}

impl Passwords {
    pub fn with_cost(cost: u32) -> Self {
        Self { cost }
    }

    pub async fn hash(&self, password: &str) -> String {
        let (input, cost) = (bcrypt_input(password).into_owned(), self.cost);
        tokio::task::spawn_blocking(move || bcrypt::hash(input, cost))
            .await
            .expect("the hashing thread panicked")
            .expect("bcrypt accepts every cost we configure")
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, password: &str, hash: &str) -> bool {
        let (input, hash) = (bcrypt_input(password).into_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || bcrypt::verify(input, &hash).unwrap_or(false))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let passwords = Passwords::with_cost(4);
        let hash = passwords.hash("correct horse").await;
        assert!(passwords.verify("correct horse", &hash).await);
        assert!(!passwords.verify("correct horsf", &hash).await);
    }

    #[tokio::test]
    async fn a_nul_in_a_password_counts_like_any_other_byte() {
        let passwords = Passwords::with_cost(4);
        let hash = passwords.hash("before\0after").await;
        assert!(passwords.verify("before\0after", &hash).await);
        assert!(!passwords.verify("before", &hash).await);
        assert!(!passwords.verify("before\0other", &hash).await);
    }

    #[tokio::test]
    async fn a_password_past_72_bytes_counts_whole() {
        let passwords = Passwords::with_cost(4);
        let long = "p".repeat(72) + "tail";
        let hash = passwords.hash(&long).await;
        assert!(passwords.verify(&long, &hash).await);
        assert!(!passwords.verify(&"p".repeat(72), &hash).await);
        assert!(!passwords.verify(&("p".repeat(72) + "tale"), &hash).await);
        let prefix_hash = passwords.hash(&"p".repeat(72)).await;
        assert!(!passwords.verify(&long, &prefix_hash).await);
    }

    #[tokio::test]
    async fn seventy_two_characters_of_four_bytes_each_hash_and_verify() {
        let passwords = Passwords::with_cost(4);
        let emoji = "😀".repeat(72);
        let hash = passwords.hash(&emoji).await;
        assert!(passwords.verify(&emoji, &hash).await);
        assert!(!passwords.verify(&"😀".repeat(71), &hash).await);
    }
}
