//! Digital identity: every login and every checkout becomes one record, scored by how well it
//! matches the user's earlier records (`score.rs`). Called by the stream consumers.

use shop_domain::events::{OrderCreated, UserLoggedIn};
use tracing::instrument;

use crate::score::{self, Device};
use crate::store::{IdentityRecord, Inserted, RecordKind, Records};

/// Earlier records a score looks at: the user's most recent ones. More would change nothing but
/// the cost: the history term is full after five, and a device unseen in a hundred events is new.
pub const HISTORY_LIMIT: i64 = 100;

/// What handling one event did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recorded {
    /// A record was written with this score.
    New { kind: RecordKind, score: f64 },
    /// The event had a record already (a redelivery): nothing written.
    AlreadyRecorded,
}

/// What to do with a checkout when the user has no login recorded at or before the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingLogin {
    /// Fail, so the entry is retried: the login is normally on its way (the two streams are read
    /// independently, and a backlog may hold the login behind the order).
    Wait,
    /// Record the checkout with an unknown device (the last attempt: better a record that scores
    /// low than none).
    RecordWithoutDevice,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("user {user_id} has no login recorded at or before order {order_id} yet")]
    LoginNotRecordedYet { user_id: String, order_id: String },
    #[error("the event has an empty sessionId")]
    EmptySessionId,
    #[error("identity records: {0}")]
    Database(#[from] mongodb::error::Error),
}

/// Records a login, with the browser's fingerprint and the client's address.
#[instrument(skip_all, fields(user_id = %login.user_id, session_id = %login.session_id))]
pub async fn record_login(
    records: &Records,
    login: &UserLoggedIn,
) -> Result<Recorded, RecordError> {
    if login.session_id.is_empty() {
        return Err(RecordError::EmptySessionId);
    }
    let id = IdentityRecord::login_id(&login.session_id);
    if records.exists(&id).await? {
        return Ok(Recorded::AlreadyRecorded);
    }
    let ip = Some(login.ip_address.trim())
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned);
    let record = IdentityRecord {
        id,
        user_id: login.user_id.clone(),
        kind: RecordKind::Login,
        fingerprint: score::fingerprint(&login.browser_agent),
        ip,
        at: bson::DateTime::from_chrono(login.created_at),
        score: 0.0,
        device_from: None,
        recorded_at: bson::DateTime::now(),
    };
    scored_insert(records, record).await
}

/// Records a checkout. An order carries no address or user agent, so the checkout takes those of
/// the user's latest login at or before the order: the session the order was most likely placed
/// in. Without one, `missing` decides.
#[instrument(skip_all, fields(user_id = %order.user_id, order_id = %order.order_id))]
pub async fn record_checkout(
    records: &Records,
    order: &OrderCreated,
    missing: MissingLogin,
) -> Result<Recorded, RecordError> {
    let id = IdentityRecord::checkout_id(&order.order_id);
    if records.exists(&id).await? {
        return Ok(Recorded::AlreadyRecorded);
    }
    let at = bson::DateTime::from_chrono(order.created_at);
    let login = records.latest_login(&order.user_id, at).await?;
    if login.is_none() && missing == MissingLogin::Wait {
        return Err(RecordError::LoginNotRecordedYet {
            user_id: order.user_id.to_string(),
            order_id: order.order_id.to_string(),
        });
    }
    if login.is_none() {
        tracing::warn!("no login on record for this checkout; recording it with an unknown device");
    }
    let device = login
        .as_ref()
        .map(IdentityRecord::device)
        .unwrap_or_default();
    let record = IdentityRecord {
        id,
        user_id: order.user_id.clone(),
        kind: RecordKind::Checkout,
        fingerprint: device.fingerprint.map(str::to_owned),
        ip: device.ip.map(str::to_owned),
        at,
        score: 0.0,
        device_from: login.map(|login| login.id),
        recorded_at: bson::DateTime::now(),
    };
    scored_insert(records, record).await
}

/// Scores `record` against the user's earlier records and inserts it. The score is computed from
/// what is stored when the event is handled: events normally arrive in order, and one that comes
/// late is scored against what was there. Concurrent deliveries of one event may compute a score
/// each; the unique `_id` keeps exactly one.
async fn scored_insert(
    records: &Records,
    mut record: IdentityRecord,
) -> Result<Recorded, RecordError> {
    let earlier = records
        .earlier(&record.user_id, record.at, HISTORY_LIMIT)
        .await?;
    let devices: Vec<Device<'_>> = earlier.iter().map(IdentityRecord::device).collect();
    record.score = score::score(record.device(), &devices);
    match records.insert(&record).await? {
        Inserted::New => {
            tracing::info!(
                kind = record.kind.as_str(),
                score = record.score,
                "identity recorded"
            );
            Ok(Recorded::New {
                kind: record.kind,
                score: record.score,
            })
        }
        Inserted::AlreadyExists => Ok(Recorded::AlreadyRecorded),
    }
}
