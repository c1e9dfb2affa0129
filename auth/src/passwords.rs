use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// bcrypt hashing on a blocking thread: a hash at cost 12 takes a few hundred milliseconds,
/// which would stall every other task on an async worker. Cheap to clone; clones share the
/// count of verifications and the stand-in hash.
#[derive(Debug, Clone)]
pub struct Passwords {
    cost: u32,
    /// What a password is checked against when there is no user to check it against, so that
    /// an unknown name costs what a known one does and timing tells nothing.
    stand_in: Arc<OnceCell<String>>,
    verifications: Arc<AtomicU64>,
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
        Self {
            cost,
            stand_in: Arc::default(),
            verifications: Arc::default(),
        }
    }

    /// How many passwords were verified, known users' or not.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Verifies `password` against a hash of the configured cost that nothing matches: the same
    /// work as [`verify`](Self::verify), for a login whose user does not exist. Always `false`.
    pub async fn verify_for_nobody(&self, password: &str) -> bool {
        let stand_in = self
            .stand_in
            .get_or_init(|| self.hash("no password matches this stand-in"))
            .await;
        self.verify(password, stand_in).await;
        false
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
        self.verifications.fetch_add(1, Ordering::Relaxed);
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
    async fn a_name_nobody_has_costs_one_verification_at_the_configured_cost() {
        let passwords = Passwords::with_cost(5);
        assert!(!passwords.verify_for_nobody("correct horse").await);
        assert!(!passwords.verify_for_nobody("correct horse").await);
        assert_eq!(passwords.verifications(), 2);
        let stand_in = passwords.stand_in.get().unwrap();
        assert!(stand_in.starts_with("$2b$05$"), "{stand_in}");
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
