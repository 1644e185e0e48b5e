//! Money as an integer number of minor units (cents). Floats never touch an amount: the API speaks
//! cents, the streams speak two-decimal strings (`"229.85"`), and both convert exactly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Quantity;

/// The shop trades in one currency; it is carried in responses so clients never have to assume it.
pub const CURRENCY: &str = "USD";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is too large")]
    Overflow,
    #[error("'{0}' is not a decimal amount with at most two decimals")]
    Malformed(String),
}

/// A non-negative amount in minor units.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_minor(minor: i64) -> Result<Self, MoneyError> {
        if minor < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Self(minor))
        }
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// The price of `qty` units at this unit price.
    pub fn times(self, qty: Quantity) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(i64::from(qty.get()))
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// Sums line totals; an empty iterator is zero.
    pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }

    /// The decimal string used on the streams, always with two decimals: `22985` → `"229.85"`.
    pub fn to_decimal_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses `"229.85"`, `"229.8"` or `"229"`; rejects signs, exponents and more than two decimals.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || MoneyError::Malformed(s.to_owned());
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
            return Err(malformed());
        }
        if s.ends_with('.') {
            return Err(malformed());
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let cents = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => frac.parse::<i64>().map_err(|_| malformed())?,
        };
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }
}

impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(minor: i64) -> Result<Self, Self::Error> {
        Self::from_minor(minor)
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> Self {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(minor: i64) -> Money {
        Money::from_minor(minor).expect("non-negative")
    }

    #[test]
    fn formats_with_two_decimals() {
        assert_eq!(money(22985).to_decimal_string(), "229.85");
        assert_eq!(money(5).to_decimal_string(), "0.05");
        assert_eq!(money(100).to_decimal_string(), "1.00");
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn parses_decimal_strings_exactly() {
        assert_eq!("229.85".parse(), Ok(money(22985)));
        assert_eq!("229.8".parse(), Ok(money(22980)));
        assert_eq!("229".parse(), Ok(money(22900)));
        assert_eq!("0.07".parse(), Ok(money(7)));
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "", ".5", "1.", "-1.00", "+1", "1.234", "1e3", "12a", " 1", "1.-5",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should not parse");
        }
        assert_eq!(
            "99999999999999999999".parse::<Money>(),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        let q = Quantity::new(3).expect("valid");
        assert_eq!(money(1999).times(q), Ok(money(5997)));
        assert_eq!(money(i64::MAX).times(q), Err(MoneyError::Overflow));
        assert_eq!(Money::sum([money(1), money(2)]), Ok(money(3)));
        assert_eq!(
            Money::sum([money(i64::MAX), money(1)]),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Money::from_minor(-1), Err(MoneyError::Negative));
    }

    proptest! {
        #[test]
        fn decimal_string_round_trips(minor in 0i64..i64::MAX / 100) {
            let m = money(minor);
            prop_assert_eq!(m.to_decimal_string().parse::<Money>(), Ok(m));
        }

        #[test]
        fn sum_matches_integer_sum(parts in proptest::collection::vec(0i64..1_000_000, 0..50)) {
            let total: i64 = parts.iter().sum();
            prop_assert_eq!(Money::sum(parts.into_iter().map(money)), Ok(money(total)));
        }
    }
}
