//! `rebuilds`: one document per rebuild attempt, `_id` = its number, which is also the generation it
//! builds. Starting a rebuild is inserting the next number, so of two concurrent starts exactly one
//! insert succeeds (atomic on FerretDB too); the other is told a rebuild is in progress.
//!
//! A single `{_id: "rebuild-lock"}` document would need a delete before a new insert to take over
//! from a crashed holder, and two processes doing that at once could both end up "holding" it on
//! FerretDB (its deletes are a query, then a delete by id). With numbered attempts a takeover is
//! just the next insert.

use std::time::Duration;

use bson::doc;
use mongodb::error::Error;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use super::is_duplicate_key;

/// The collection's name.
pub const REBUILDS: &str = "rebuilds";

/// One rebuild attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The attempt's number and the generation it builds.
    #[serde(rename = "_id")]
    pub id: i64,
    pub started_at: bson::DateTime,
    /// The attempt gives up at this time; after it, an unfinished attempt is presumed dead.
    pub deadline: bson::DateTime,
    /// `running`, `completed` or `failed`.
    pub outcome: String,
    #[serde(default)]
    pub finished_at: Option<bson::DateTime>,
    #[serde(default)]
    pub events: Option<i64>,
    #[serde(default)]
    pub skipped: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
}

impl Attempt {
    /// Whether this attempt still blocks others: not finished, and not past its deadline.
    pub fn holds(&self, now: bson::DateTime) -> bool {
        self.finished_at.is_none() && now < self.deadline
    }
}

/// What trying to start a rebuild got.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This process runs attempt (and generation) `Attempt::id`.
    Started(Attempt),
    /// Another attempt, with this number, is running.
    Busy(i64),
}

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Completed { events: u64, skipped: u64 },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Rebuilds {
    attempts: Collection<Attempt>,
}

impl Rebuilds {
    pub fn new(db: &Database) -> Self {
        Self {
            attempts: db.collection(REBUILDS),
        }
    }

    /// The attempt with the highest number, if any.
    pub async fn latest(&self) -> Result<Option<Attempt>, Error> {
        self.attempts
            .find_one(doc! {})
            .sort(doc! { "_id": -1 })
            .await
    }

    /// Starts attempt `max(latest, active) + 1`, unless the latest attempt still holds. `active` is
    /// the active generation: numbers must never reuse it (it matters only if `rebuilds` was
    /// emptied by hand).
    pub async fn claim(&self, active: i64, timeout: Duration) -> Result<Claim, Error> {
        let now = bson::DateTime::now();
        let latest = self.latest().await?;
        if let Some(running) = latest.as_ref().filter(|attempt| attempt.holds(now)) {
            return Ok(Claim::Busy(running.id));
        }
        let id = latest.map_or(0, |attempt| attempt.id).max(active) + 1;
        let timeout = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let attempt = Attempt {
            id,
            started_at: now,
            deadline: bson::DateTime::from_millis(now.timestamp_millis().saturating_add(timeout)),
            outcome: "running".to_owned(),
            finished_at: None,
            events: None,
            skipped: None,
            error: None,
        };
        match self.attempts.insert_one(&attempt).await {
            Ok(_) => Ok(Claim::Started(attempt)),
            // Another process started attempt `id` between our read and our insert.
            Err(error) if is_duplicate_key(&error) => Ok(Claim::Busy(id)),
            Err(error) => Err(error),
        }
    }

    /// Records how attempt `id` ended. Only its own rebuild writes it, so the update cannot race.
    pub async fn finish(&self, id: i64, ended: &Ended) -> Result<(), Error> {
        let mut set = match ended {
            Ended::Completed { events, skipped } => doc! {
                "outcome": "completed",
                "events": i64::try_from(*events).unwrap_or(i64::MAX),
                "skipped": i64::try_from(*skipped).unwrap_or(i64::MAX),
            },
            Ended::Failed(error) => doc! { "outcome": "failed", "error": error },
        };
        set.insert("finishedAt", bson::DateTime::now());
        self.attempts
            .update_one(doc! { "_id": id }, doc! { "$set": set })
            .await
            .map(drop)
    }
}
