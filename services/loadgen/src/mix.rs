//! The operation mix (`browse=60,search=25,order=15`): relative weights of the three things a
//! shopper does, and the draw that picks one.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What a simulated shopper does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Look at a product, or sometimes at a page of the catalog.
    Browse,
    /// Search the catalog for a word.
    Search,
    /// Buy one unit of a product.
    Order,
}

/// Relative weights of the operations; they need not add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub browse: u32,
    pub search: u32,
    pub order: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            browse: 60,
            search: 25,
            order: 15,
        }
    }
}

impl Mix {
    pub fn total(&self) -> u32 {
        self.browse + self.search + self.order
    }

    /// The operation for `roll`, a uniform draw from `0..total()`.
    pub fn pick(&self, roll: u32) -> Operation {
        if roll < self.browse {
            Operation::Browse
        } else if roll < self.browse + self.search {
            Operation::Search
        } else {
            Operation::Order
        }
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "browse={},search={},order={}",
            self.browse, self.search, self.order
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    #[error("expected name=weight, got {0:?}")]
    Malformed(String),
    #[error("unknown operation {0:?} (browse, search, order)")]
    Unknown(String),
    #[error("{0} is given twice")]
    Repeated(String),
    #[error("the weight of {name} must be a whole number up to 1000, got {weight:?}")]
    Weight { name: String, weight: String },
    #[error("the weights add up to zero: nothing to do")]
    Empty,
}

impl FromStr for Mix {
    type Err = MixError;

    /// Operations left out weigh zero: `order=1` is an orders-only run.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut weights: [Option<u32>; 3] = [None; 3];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| MixError::Malformed(part.to_owned()))?;
            let (name, weight) = (name.trim(), weight.trim());
            let slot = match name {
                "browse" => 0,
                "search" => 1,
                "order" => 2,
                _ => return Err(MixError::Unknown(name.to_owned())),
            };
            let parsed = weight
                .parse::<u32>()
                .ok()
                .filter(|w| *w <= 1000)
                .ok_or_else(|| MixError::Weight {
                    name: name.to_owned(),
                    weight: weight.to_owned(),
                })?;
            if weights[slot].replace(parsed).is_some() {
                return Err(MixError::Repeated(name.to_owned()));
            }
        }
        let [browse, search, order] = weights.map(|w| w.unwrap_or(0));
        let mix = Self {
            browse,
            search,
            order,
        };
        if mix.total() == 0 {
            return Err(MixError::Empty);
        }
        Ok(mix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_mix_parses_and_prints_back() {
        let mix: Result<Mix, _> = " browse=60, search=25 ,order=15".parse();

        assert_eq!(mix, Ok(Mix::default()));
        assert_eq!(Mix::default().to_string(), "browse=60,search=25,order=15");
    }

    #[test]
    fn operations_left_out_weigh_zero() {
        let mix: Result<Mix, _> = "order=1".parse();

        assert_eq!(
            mix,
            Ok(Mix {
                browse: 0,
                search: 0,
                order: 1
            })
        );
    }

    #[test]
    fn bad_mixes_are_refused_with_the_reason() {
        let cases = [
            ("browse", MixError::Malformed("browse".into())),
            ("buy=5", MixError::Unknown("buy".into())),
            ("order=1,order=2", MixError::Repeated("order".into())),
            (
                "search=-1",
                MixError::Weight {
                    name: "search".into(),
                    weight: "-1".into(),
                },
            ),
            (
                "search=2.5",
                MixError::Weight {
                    name: "search".into(),
                    weight: "2.5".into(),
                },
            ),
            ("browse=0,order=0", MixError::Empty),
            ("", MixError::Empty),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<Mix>(), Err(error), "{text:?}");
        }
    }

    #[test]
    fn every_roll_picks_by_weight() {
        let mix = Mix {
            browse: 2,
            search: 1,
            order: 3,
        };

        let picks: Vec<Operation> = (0..mix.total()).map(|roll| mix.pick(roll)).collect();

        use Operation::{Browse, Order, Search};
        assert_eq!(picks, [Browse, Browse, Search, Order, Order, Order]);
    }

    #[test]
    fn a_zero_weight_is_never_picked() {
        let mix = Mix {
            browse: 0,
            search: 1,
            order: 0,
        };

        assert!((0..mix.total()).all(|roll| mix.pick(roll) == Operation::Search));
    }
}
