use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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

    /// Hashes a password the value types already held to bcrypt's 72 bytes. (bcrypt's
    /// `non_truncating_hash` also refuses exactly 72, which we allow, hence the explicit check.)
    pub async fn hash(&self, password: &str) -> String {
        assert!(
            password.len() <= BCRYPT_MAX_BYTES,
            "passwords are validated to bcrypt's limit before hashing"
        );
        let (password, cost) = (password.to_owned(), self.cost);
        tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
            .await
            .expect("the hashing thread panicked")
            .expect("bcrypt accepts every cost we configure")
    }

    /// Whether `password` matches `hash`. A password longer than bcrypt reads never matches: it
    /// cannot be one we hashed, and bcrypt would compare only its first 72 bytes.
    pub async fn verify(&self, password: &str, hash: &str) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        // Too long to be ours: still hashed, at the same cost, so the answer takes as long.
        let too_long = password.len() > BCRYPT_MAX_BYTES;
        let password = if too_long {
            &password[..password.floor_char_boundary(BCRYPT_MAX_BYTES)]
        } else {
            password
        };
        let (password, hash) = (password.to_owned(), hash.to_owned());
        let matches =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        matches && !too_long
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
    async fn a_password_past_72_bytes_never_matches_even_when_its_prefix_does() {
        let passwords = Passwords::with_cost(4);
        let prefix = "p".repeat(72);
        let hash = passwords.hash(&prefix).await;
        assert!(!passwords.verify(&format!("{prefix}tail"), &hash).await);
    }
}
