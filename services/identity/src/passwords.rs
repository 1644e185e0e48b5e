//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommended minimum), on the blocking pool, a bounded number at a time.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// What the unknown-email path verifies against. Its value does not matter (a match is ignored);
/// what matters is that it is a real hash with the same parameters, so it costs the same time.
const DUMMY_PASSWORD: &str = "verified for unknown emails, so they take as long as known ones";

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the hashing pool is closed")]
    Closed(#[from] tokio::sync::AcquireError),
}

/// Hashes and verifies passwords. Cheap to clone; clones share the permits.
///
/// Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's blocking
/// pool (never on the threads that serve requests), and at most one per core at a time: a burst of
/// logins queues instead of taking the machine's memory and every other request's CPU.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Hashes at most `concurrency` passwords at once (at least one).
    pub async fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let dummy_hash = hash_on_pool(&permits, SecretString::from(DUMMY_PASSWORD)).await?;
        Ok(Self {
            permits,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// One permit per core.
    pub async fn per_core() -> Result<Self, PasswordError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores).await
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a fresh random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        hash_on_pool(&self.permits, password).await
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown email) it verifies
    /// against a dummy hash and answers `false`, taking as long as a real check.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let _permit = self.permits.acquire().await?;
        let matched = tokio::task::spawn_blocking(move || {
            match Argon2::default().verify_password(password.expose_secret().as_bytes(), &*hash) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(error) => Err(PasswordError::Argon2(error)),
            }
        })
        .await??;
        Ok(known && matched)
    }
}

async fn hash_on_pool(
    permits: &Semaphore,
    password: SecretString,
) -> Result<String, PasswordError> {
    let _permit = permits.acquire().await?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(PasswordError::Argon2)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text)
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> Result<(), PasswordError> {
        let passwords = Passwords::new(2).await?;

        let hash = passwords.hash(secret("correct horse")).await?;

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify(secret("correct horse"), Some(hash.clone()))
                .await?
        );
        assert!(
            !passwords
                .verify(secret("Correct horse"), Some(hash))
                .await?
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() -> Result<(), PasswordError> {
        let passwords = Passwords::new(2).await?;

        let a = passwords.hash(secret("correct horse")).await?;
        let b = passwords.hash(secret("correct horse")).await?;

        assert_ne!(a, b, "a fresh salt per hash");
        Ok(())
    }

    #[tokio::test]
    async fn without_a_stored_hash_nothing_verifies_not_even_the_dummy_password()
    -> Result<(), PasswordError> {
        let passwords = Passwords::new(1).await?;

        assert!(!passwords.verify(secret(DUMMY_PASSWORD), None).await?);
        assert!(!passwords.verify(secret("anything"), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_mismatch() -> Result<(), PasswordError> {
        let passwords = Passwords::new(1).await?;

        let verified = passwords
            .verify(secret("anything"), Some("not a phc string".to_owned()))
            .await;

        assert!(
            matches!(verified, Err(PasswordError::Argon2(_))),
            "{verified:?}"
        );
        Ok(())
    }
}
