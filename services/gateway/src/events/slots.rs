//! A bound on the live streams one user holds open on a replica: each stream holds a slot, freed
//! when the stream ends (the client went away, the order settled, or the gateway stopped).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The open streams per user.
#[derive(Debug, Clone)]
pub struct Slots {
    per_user: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    user: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Slots {
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            open: Arc::default(),
        }
    }

    /// A slot for `user`, or `None` when they already hold `per_user` streams. The lock is held
    /// only to count: a poisoned map is still a correct count, so poisoning is ignored.
    pub fn take(&self, user: &str) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user.to_owned()).or_insert(0);
        if *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(Slot {
            user: user.to_owned(),
            open: Arc::clone(&self.open),
        })
    }

    pub fn per_user(&self) -> usize {
        self.per_user
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_the_bound_and_a_freed_slot_is_reusable() {
        let slots = Slots::new(2);

        let first = slots.take("ada");
        let second = slots.take("ada");
        let third = slots.take("ada");
        let other = slots.take("bob");

        assert!(first.is_some() && second.is_some() && other.is_some());
        assert!(third.is_none());
        drop(first);
        assert!(slots.take("ada").is_some());
    }
}
