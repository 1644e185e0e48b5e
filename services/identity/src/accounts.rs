//! Accounts and sessions: registering, logging in (which announces `UserLoggedIn`), logging out,
//! and the caller's profile with their identity score.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shop_domain::UserId;
use shop_domain::events::UserLoggedIn;
use shop_sessions::SessionStore;
use shop_streams::{Event, Publisher, TRACEPARENT_FIELD, Traceparent};
use tracing::instrument;

use crate::error::{ApiError, Result};
use crate::extract::ClientInfo;
use crate::metrics::{IdentityMetrics, LoginOutcome};
use crate::passwords::Passwords;
use crate::registration::{Email, MAX_PASSWORD_CHARS, Registration};
use crate::store::{Inserted, Store, UserDocument};
use crate::throttle::{Admission, Attempt, LoginThrottle, retry_after_secs};

/// `POST /api/auth/login`'s body. The email is not validated: any mismatch is a 401. It is looked
/// up in its normal form (`text::Email`), as registrations store it.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredUser {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    pub token: String,
    pub user_id: UserId,
    #[serde(serialize_with = "shop_domain::time::rfc3339_millis::serialize")]
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    /// The score of the user's latest identity record; `None` before the first one.
    pub identity_score: Option<f64>,
}

/// The account operations the routes call. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub store: Store,
    pub passwords: Passwords,
    pub sessions: SessionStore,
    pub publisher: Publisher,
    /// Where logins are announced (`IDENTITY_STREAM` with the deployment's prefix).
    pub identity_stream: String,
    /// Failed logins per account and per client, shared by every replica through Redis.
    pub throttle: LoginThrottle,
    pub metrics: IdentityMetrics,
}

impl Accounts {
    /// Creates the account. The password is hashed first (the slow part; 503 `busy` at once when
    /// the hashing queue is full), then one insert whose `_id` is the email's normal form decides,
    /// atomically, whether the email was free.
    ///
    /// An account made before emails were normalised sits under its legacy key (trimmed and
    /// lowercased); where that differs from the normal form it is looked up first, so the same
    /// address cannot get a second account. No new account is ever stored under a legacy key, so
    /// that check cannot race.
    #[instrument(skip_all)]
    pub async fn register(&self, registration: Registration) -> Result<RegisteredUser> {
        let Registration {
            email,
            password,
            name,
        } = registration;
        let legacy_key = Email::legacy_key_of(&email.address);
        if legacy_key != email.key && self.store.users.by_email_key(&legacy_key).await?.is_some() {
            return Err(ApiError::EmailTaken);
        }
        let password_hash = self.passwords.hash(password).await?;
        let user = UserDocument {
            email_key: email.key,
            user_id: UserId::generate(),
            email: email.address,
            name,
            password_hash,
            created_at: bson::DateTime::now(),
        };
        match self.store.users.insert(&user).await? {
            Inserted::New => {
                self.metrics.registered();
                tracing::info!(user_id = %user.user_id, "account created");
                Ok(RegisteredUser {
                    user_id: user.user_id,
                    email: user.email,
                    name: user.name,
                })
            }
            Inserted::AlreadyExists => Err(ApiError::EmailTaken),
        }
    }

    /// Checks the credentials, opens a session and announces the login.
    ///
    /// First the throttle's gate (`throttle.rs`): a blocked account or client is answered 429
    /// before anything is looked up or hashed. Then the password, through the bounded hashing
    /// queue (503 `busy` at once when it is full). An unknown email costs a verification against
    /// a dummy hash, so it takes as long as a wrong password and answers the same. A success
    /// clears the account's failures; an attempt that got no answer on its credentials (shed, a
    /// dependency down) is not counted.
    ///
    /// If the announcement cannot be published the session is revoked and the login fails (503):
    /// a login nobody scored would be a blind spot. A crash between the two leaves a session
    /// without its event; nothing else is lost.
    #[instrument(skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn login(&self, request: LoginRequest, client: ClientInfo) -> Result<LoggedIn> {
        let keys = Email::lookup_keys(&request.email);
        let attempt = match self.throttle.admit(&keys[0], &client.ip).await {
            Ok(Admission::Admitted(attempt)) => attempt,
            Ok(Admission::Refused { retry_after }) => {
                self.metrics.login(LoginOutcome::Throttled);
                return Err(ApiError::TooManyAttempts {
                    retry_after_secs: retry_after_secs(retry_after),
                });
            }
            Err(error) => return Err(ApiError::Unavailable(format!("login throttle: {error}"))),
        };
        let user = match self.check_credentials(request, &keys).await {
            Ok(user) => user,
            Err(ApiError::InvalidCredentials) => {
                self.metrics.login(LoginOutcome::InvalidCredentials);
                return Err(ApiError::InvalidCredentials);
            }
            Err(error) => {
                if matches!(error, ApiError::Busy) {
                    self.metrics.login(LoginOutcome::Busy);
                }
                self.settle(&attempt, false).await;
                return Err(error);
            }
        };
        self.settle(&attempt, true).await;
        tracing::Span::current().record("user_id", tracing::field::display(&user.user_id));

        let opened = self.sessions.create(&user.user_id).await?;
        if opened.revoked > 0 {
            self.metrics.sessions_revoked_by_cap(opened.revoked);
            tracing::info!(
                revoked = opened.revoked,
                "older sessions revoked by the cap"
            );
        }
        let event = UserLoggedIn {
            user_id: user.user_id.clone(),
            session_id: opened.session.session_id.clone(),
            ip_address: client.ip,
            browser_agent: client.user_agent,
            created_at: opened.session.created_at,
        };
        let mut fields = event.to_fields();
        fields.push(TRACEPARENT_FIELD, Traceparent::generate().to_string());
        if let Err(error) = self
            .publisher
            .publish_fields(&self.identity_stream, fields)
            .await
        {
            if let Err(revoke) = self.sessions.revoke(&opened.token).await {
                tracing::error!(error = %revoke, "revoking an unannounced session failed; it lives until it expires");
            }
            return Err(ApiError::Unavailable(format!(
                "publishing UserLoggedIn: {error}"
            )));
        }
        self.metrics.login(LoginOutcome::Success);
        tracing::info!(session_id = %event.session_id, "logged in");
        Ok(LoggedIn {
            token: opened.token,
            user_id: user.user_id,
            expires_at: opened.session.expires_at,
        })
    }

    /// The account `keys` name whose password is `request.password`, or `InvalidCredentials`.
    async fn check_credentials(
        &self,
        request: LoginRequest,
        keys: &[String],
    ) -> Result<UserDocument> {
        if request.password.expose_secret().chars().count() > MAX_PASSWORD_CHARS {
            // No account can have it; answered before the lookup, so in the same time for all.
            return Err(ApiError::InvalidCredentials);
        }
        let mut user = None;
        for key in keys {
            user = self.store.users.by_email_key(key).await?;
            if user.is_some() {
                break;
            }
        }
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let verified = self.passwords.verify(request.password, stored).await?;
        user.filter(|_| verified)
            .ok_or(ApiError::InvalidCredentials)
    }

    /// Tells the throttle how an admitted attempt ended when it was not a failure. A Redis error
    /// here only leaves the attempt counted (stricter, never looser), so it is logged, not fatal.
    async fn settle(&self, attempt: &Attempt, succeeded: bool) {
        let settled = if succeeded {
            self.throttle.succeeded(attempt).await
        } else {
            self.throttle.release(attempt).await
        };
        if let Err(error) = settled {
            tracing::warn!(%error, succeeded, "settling a login attempt with the throttle failed");
        }
    }

    /// Ends the token's session; an unknown (expired, revoked, made-up) token is a 401.
    #[instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> Result<()> {
        if self.sessions.revoke(token).await? {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }

    #[instrument(skip_all, fields(user_id = %user_id))]
    pub async fn profile(&self, user_id: &UserId) -> Result<Profile> {
        let user = self
            .store
            .users
            .by_id(user_id)
            .await?
            .ok_or_else(|| ApiError::UserNotFound(user_id.to_string()))?;
        let latest = self.store.records.latest(user_id).await?;
        Ok(Profile {
            user_id: user.user_id,
            email: user.email,
            name: user.name,
            identity_score: latest.map(|record| record.score),
        })
    }
}
