/// bcrypt hashing on a blocking thread: a hash at cost 12 takes a few hundred milliseconds,
/// which would stall every other task on an async worker.
#[derive(Debug, Clone, Copy)]
pub struct Passwords {
    cost: u32,
}

/// bcrypt reads at most this many bytes of a password.
const BCRYPT_MAX_BYTES: usize = 72;

impl Passwords {
    pub fn with_cost(cost: u32) -> Self {
        Self { cost }
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
        if password.len() > BCRYPT_MAX_BYTES {
            return false;
        }
        let (password, hash) = (password.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
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
    async fn a_password_past_72_bytes_never_matches_even_when_its_prefix_does() {
        let passwords = Passwords::with_cost(4);
        let prefix = "p".repeat(72);
        let hash = passwords.hash(&prefix).await;
        assert!(!passwords.verify(&format!("{prefix}tail"), &hash).await);
    }
}
