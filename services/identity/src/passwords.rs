//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommended minimum), on the blocking pool, through a bounded queue (`hash_queue.rs`).

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};

use crate::hash_queue::{HashQueue, HashingLimits, Shed, Slot};

/// What the unknown-email path verifies against. Its value does not matter (a match is ignored);
/// what matters is that it is a real hash with the same parameters, so it costs the same time.
const DUMMY_PASSWORD: &str = "verified for unknown emails, so they take as long as known ones";

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Too many hashes running and waiting: answered at once, nothing was hashed.
    #[error("{0}")]
    Shed(#[from] Shed),
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// What hashing reports on `/metrics`. Cheap to clone; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct PasswordMetrics {
    /// Argon2 computations started (hashes and verifications alike).
    hashes: Counter,
    shed: Family<ReasonLabel, Counter>,
}

impl PasswordMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "password_hashes",
            "Argon2 hashes and verifications started",
            self.hashes.clone(),
        );
        registry.register(
            "password_hashing_shed",
            "Requests answered 503 busy instead of hashing, by reason (queue_full, waited_too_long)",
            self.shed.clone(),
        );
    }
}

/// Hashes and verifies passwords. Cheap to clone; clones share the queue.
///
/// Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on tokio's blocking
/// pool (never on the threads that serve requests), a bounded number at a time, behind a bounded
/// queue: a burst of logins takes neither the machine's memory nor every other request's CPU, and
/// what the queue cannot hold is refused at once.
#[derive(Debug, Clone)]
pub struct Passwords {
    queue: HashQueue,
    dummy_hash: Arc<str>,
    metrics: PasswordMetrics,
}

impl Passwords {
    /// Computes the dummy hash once, before serving (so at start-up, not during the first login).
    pub async fn new(
        limits: HashingLimits,
        metrics: PasswordMetrics,
    ) -> Result<Self, PasswordError> {
        let queue = HashQueue::new(limits);
        let password = SecretString::from(DUMMY_PASSWORD);
        let dummy_hash = run(queue.slot().await?, move || hash_now(&password)).await??;
        Ok(Self {
            queue,
            dummy_hash: dummy_hash.into(),
            metrics,
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a fresh random salt.
    /// `Shed` at once when the queue is full.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        let slot = self.slot().await?;
        run(slot, move || hash_now(&password)).await?
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown email) it verifies
    /// against a dummy hash and answers `false`, taking as long as a real check. `Shed` at once
    /// when the queue is full.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let slot = self.slot().await?;
        let matched = run(slot, move || {
            match Argon2::default().verify_password(password.expose_secret().as_bytes(), &*hash) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(error) => Err(PasswordError::Argon2(error)),
            }
        })
        .await??;
        Ok(known && matched)
    }

    async fn slot(&self) -> Result<Slot, PasswordError> {
        match self.queue.slot().await {
            Ok(slot) => {
                self.metrics.hashes.inc();
                Ok(slot)
            }
            Err(shed) => {
                self.metrics
                    .shed
                    .get_or_create(&ReasonLabel {
                        reason: shed.as_str(),
                    })
                    .inc();
                Err(shed.into())
            }
        }
    }
}

/// Runs `work` on the blocking pool, holding `slot` until it is done (even if the caller is gone).
async fn run<T: Send + 'static>(
    slot: Slot,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    Ok(tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await?)
}

fn hash_now(password: &SecretString) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(PasswordError::Argon2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text)
    }

    async fn passwords(concurrency: usize) -> Result<Passwords, PasswordError> {
        let limits = HashingLimits {
            concurrency,
            ..HashingLimits::per_core()
        };
        Passwords::new(limits, PasswordMetrics::default()).await
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> Result<(), PasswordError> {
        let passwords = passwords(2).await?;

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
        let passwords = passwords(2).await?;

        let a = passwords.hash(secret("correct horse")).await?;
        let b = passwords.hash(secret("correct horse")).await?;

        assert_ne!(a, b, "a fresh salt per hash");
        Ok(())
    }

    #[tokio::test]
    async fn without_a_stored_hash_nothing_verifies_not_even_the_dummy_password()
    -> Result<(), PasswordError> {
        let passwords = passwords(1).await?;

        assert!(!passwords.verify(secret(DUMMY_PASSWORD), None).await?);
        assert!(!passwords.verify(secret("anything"), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_mismatch() -> Result<(), PasswordError> {
        let passwords = passwords(1).await?;

        let verified = passwords
            .verify(secret("anything"), Some("not a phc string".to_owned()))
            .await;

        assert!(
            matches!(verified, Err(PasswordError::Argon2(_))),
            "{verified:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn every_hash_and_verification_is_counted() -> Result<(), PasswordError> {
        let passwords = passwords(1).await?;

        let hash = passwords.hash(secret("correct horse")).await?;
        passwords
            .verify(secret("correct horse"), Some(hash))
            .await?;
        passwords.verify(secret("correct horse"), None).await?;

        assert_eq!(
            passwords.metrics.hashes.get(),
            3,
            "the dummy hash is not counted"
        );
        Ok(())
    }
}
