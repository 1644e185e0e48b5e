//! A line quantity: the only way to get one is through `Quantity::new`, which enforces the limits the
//! API promises (1 to 100 per line).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quantity must be between {min} and {max}, got {got}", min = Quantity::MIN, max = Quantity::MAX)]
pub struct QuantityError {
    pub got: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 100;

    pub fn new(value: u32) -> Result<Self, QuantityError> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(QuantityError {
                got: i64::from(value),
            })
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .map_err(|_| QuantityError { got: value })
            .and_then(Self::new)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> Self {
        q.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_range_only() {
        assert!(Quantity::new(0).is_err());
        assert_eq!(Quantity::new(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::new(100).map(Quantity::get), Ok(100));
        assert!(Quantity::new(101).is_err());
        assert!(Quantity::try_from(-1).is_err());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Quantity>("0").is_err());
        assert!(serde_json::from_str::<Quantity>("-5").is_err());
        assert_eq!(
            serde_json::from_str::<Quantity>("7").ok(),
            Quantity::new(7).ok()
        );
    }
}
