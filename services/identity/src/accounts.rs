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

/// `POST /api/auth/login`'s body. The email is not validated: any mismatch is a 401.
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
    pub metrics: IdentityMetrics,
}

impl Accounts {
    /// Creates the account. The password is hashed first (the slow part), then one insert whose
    /// `_id` is the lowercased email decides, atomically, whether the email was free.
    #[instrument(skip_all)]
    pub async fn register(&self, registration: Registration) -> Result<RegisteredUser> {
        let Registration {
            email,
            password,
            name,
        } = registration;
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
    /// An unknown email costs a verification against a dummy hash, so it takes as long as a wrong
    /// password and answers the same. If the announcement cannot be published the session is
    /// revoked and the login fails (503): a login nobody scored would be a blind spot. A crash
    /// between the two leaves a session without its event; nothing else is lost.
    #[instrument(skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn login(&self, request: LoginRequest, client: ClientInfo) -> Result<LoggedIn> {
        if request.password.expose_secret().chars().count() > MAX_PASSWORD_CHARS {
            // No account can have it; answered before the lookup, so in the same time for all.
            self.metrics.login(LoginOutcome::InvalidCredentials);
            return Err(ApiError::InvalidCredentials);
        }
        let user = self
            .store
            .users
            .by_email_key(&Email::key_of(&request.email))
            .await?;
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let verified = self.passwords.verify(request.password, stored).await?;
        let Some(user) = user.filter(|_| verified) else {
            self.metrics.login(LoginOutcome::InvalidCredentials);
            return Err(ApiError::InvalidCredentials);
        };
        tracing::Span::current().record("user_id", tracing::field::display(&user.user_id));

        let opened = self.sessions.create(&user.user_id).await?;
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
