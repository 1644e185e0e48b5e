//! `reservations` (what a reservation holds) and `reservation_outcomes` (how it ended), both
//! insert-only. An outcome's `_id` is the reservation id, so the first outcome written wins
//! atomically: a reservation is never both committed and released.

use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};

use super::{Store, is_duplicate_key};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    pub product_id: String,
    pub qty: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub lines: Vec<ReservedLine>,
    pub created_at: bson::DateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The order was paid: the stock stays taken for good.
    Committed,
    /// The stock goes back (a failed reservation, a cancelled order, a failed payment).
    Released,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub outcome: Outcome,
    pub at: bson::DateTime,
}

impl Store {
    /// Inserts the reservation; when one with this id exists, returns it instead (a retry, or a
    /// conflicting reuse of the id: the caller compares the lines).
    pub async fn insert_reservation(
        &self,
        reservation: &ReservationDoc,
    ) -> Result<Option<ReservationDoc>> {
        match self.reservations.insert_one(reservation).await {
            Ok(_) => Ok(None),
            Err(error) if is_duplicate_key(&error) => self.reservation(&reservation.id).await,
            Err(error) => Err(error.into()),
        }
    }

    pub async fn reservation(&self, id: &str) -> Result<Option<ReservationDoc>> {
        Ok(self.reservations.find_one(doc! { "_id": id }).await?)
    }

    pub async fn outcome(&self, id: &str) -> Result<Option<Outcome>> {
        Ok(self
            .outcomes
            .find_one(doc! { "_id": id })
            .await?
            .map(|doc| doc.outcome))
    }

    /// Records `outcome` unless the reservation already has one; returns the outcome that holds
    /// (ours, or the one written first).
    pub async fn decide(&self, id: &str, outcome: Outcome) -> Result<Outcome> {
        let doc = OutcomeDoc {
            id: id.to_owned(),
            outcome,
            at: bson::DateTime::now(),
        };
        // Outcomes are never deleted, so after a duplicate the winner is there to read; the second
        // round only guards against a read that raced ahead of the write it conflicted with.
        for _ in 0..3 {
            match self.outcomes.insert_one(&doc).await {
                Ok(_) => return Ok(outcome),
                Err(error) if is_duplicate_key(&error) => {
                    if let Some(existing) = self.outcome(id).await? {
                        return Ok(existing);
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(mongodb::error::Error::custom(
            "an outcome insert conflicted with an outcome that cannot be read",
        )
        .into())
    }
}
