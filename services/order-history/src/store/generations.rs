//! The generation pointer: `meta {_id: "generations", active, building}` names the generation reads
//! use and, while a rebuild runs, the one it is building. Only the rebuild holding the current
//! attempt writes it, so writes never race (which FerretDB's non-atomic updates could not handle).
//!
//! Readers cache the pointer for [`POINTER_TTL`]. That is what the rebuild's waits are built on: a
//! pointer written at time `t` is what every process uses from `t + POINTER_TTL` on.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bson::doc;
use mongodb::error::Error;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How long a process keeps using a pointer it read. Short: it is also how long a rebuild waits after
/// each change of the pointer before relying on it.
pub const POINTER_TTL: Duration = Duration::from_millis(250);

/// The collection of the pointer document.
pub const META: &str = "meta";

/// The pointer's `_id`.
const POINTER_ID: &str = "generations";

/// Which generations are in use. Without a pointer document (a new database), generation 0 is active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// The generation reads go to.
    pub active: i64,
    /// The generation a rebuild is filling, if one is running; consumers write to it too.
    pub building: Option<i64>,
}

impl Pointer {
    /// The generations a new fact goes to: the active one and the one being built.
    pub fn targets(self) -> impl Iterator<Item = i64> {
        std::iter::once(self.active).chain(self.building.filter(|&b| b != self.active))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PointerDocument {
    #[serde(rename = "_id")]
    id: String,
    #[serde(flatten)]
    pointer: Pointer,
}

/// The pointer with its per-process cache. Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct Generations {
    meta: Collection<PointerDocument>,
    /// The last pointer read, and when that read *started*: a read started before a write may
    /// return the value from before it, so the age counts from the start.
    cached: Arc<Mutex<Option<(Instant, Pointer)>>>,
}

impl Generations {
    pub fn new(db: &Database) -> Self {
        Self {
            meta: db.collection(META),
            cached: Arc::default(),
        }
    }

    /// The pointer, as read at most [`POINTER_TTL`] ago.
    pub async fn current(&self) -> Result<Pointer, Error> {
        let cached = *self.cache();
        match cached {
            Some((read_at, pointer)) if read_at.elapsed() < POINTER_TTL => Ok(pointer),
            _ => self.fetch().await,
        }
    }

    /// The pointer as stored now (and cached).
    pub async fn fetch(&self) -> Result<Pointer, Error> {
        let started = Instant::now();
        let pointer = self
            .meta
            .find_one(doc! { "_id": POINTER_ID })
            .await?
            .map(|document| document.pointer)
            .unwrap_or_default();
        let mut cached = self.cache();
        // Concurrent reads finish in any order: keep the one that started last.
        if cached.is_none_or(|(read_at, _)| read_at <= started) {
            *cached = Some((started, pointer));
        }
        Ok(pointer)
    }

    /// Stores `pointer`. Only the rebuild holding the current attempt calls this.
    pub async fn set(&self, pointer: Pointer) -> Result<(), Error> {
        let fields = doc! { "active": pointer.active, "building": pointer.building };
        self.meta
            .update_one(doc! { "_id": POINTER_ID }, doc! { "$set": fields })
            .upsert(true)
            .await?;
        // This process need not wait for its own change; the others do, within POINTER_TTL.
        *self.cache() = Some((Instant::now(), pointer));
        Ok(())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Pointer)>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_go_to_the_active_generation_and_the_one_being_built() {
        let idle = Pointer {
            active: 2,
            building: None,
        };
        let rebuilding = Pointer {
            building: Some(3),
            ..idle
        };

        assert_eq!(idle.targets().collect::<Vec<_>>(), [2]);
        assert_eq!(rebuilding.targets().collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn the_pointer_is_stored_flat_with_a_null_when_nothing_is_being_built() {
        let document = bson::to_document(&Pointer::default()).ok();

        assert_eq!(document, Some(doc! { "active": 0_i64, "building": null }));
    }
}
