//! Query-string values, checked the same way in every service: text that is not a number is
//! malformed (400), a number outside its bounds, however large, is invalid (422), and a filter
//! string has a length cap. Nothing unbounded reaches a database query or a cache key.

use std::ops::RangeInclusive;

/// The highest page of any listing: with at most [`MAX_PAGE_SIZE`] items per page that is a skip of
/// at most 10^8, which every store takes as it is (a `u64` skip near `u64::MAX` is a driver error,
/// that is, a 500).
pub const MAX_PAGE: u64 = 1_000_000;

/// The most items on one page of any listing.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The page size of a listing when the client gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Why a query value is refused; each service maps it onto its own `ApiError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Not the kind of value the parameter takes (400).
    #[error("{0}")]
    Malformed(String),
    /// The right kind, out of bounds (422).
    #[error("{0}")]
    Invalid(String),
}

/// `None` for an absent or empty value (`?page=` counts as absent).
fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|raw| !raw.is_empty())
}

/// A whole number within `bounds`, or `None` when absent. Digits beyond what an `i64` holds are
/// out of bounds (422), not malformed: `page=99999999999999999999` is a number, just too large.
pub fn whole_number(
    name: &str,
    raw: Option<&str>,
    bounds: RangeInclusive<i64>,
) -> Result<Option<i64>, QueryError> {
    let Some(raw) = present(raw) else {
        return Ok(None);
    };
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(QueryError::Malformed(format!(
            "{name} must be a whole number, got {raw:?}"
        )));
    }
    let out_of_range = || {
        QueryError::Invalid(format!(
            "{name} must be between {} and {}",
            bounds.start(),
            bounds.end()
        ))
    };
    let value: i64 = raw.parse().map_err(|_| out_of_range())?;
    if bounds.contains(&value) {
        Ok(Some(value))
    } else {
        Err(out_of_range())
    }
}

/// A page of a listing: `page` from 1 to [`MAX_PAGE`], `pageSize` from 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub page_size: u64,
}

impl Page {
    /// The page the raw `page` and `pageSize` values ask for, defaults applied.
    pub fn parse(page: Option<&str>, page_size: Option<&str>) -> Result<Self, QueryError> {
        let bound = |max: u64| 1..=i64::try_from(max).unwrap_or(i64::MAX);
        let page = whole_number("page", page, bound(MAX_PAGE))?.map_or(1, i64::unsigned_abs);
        let page_size = whole_number("pageSize", page_size, bound(MAX_PAGE_SIZE))?
            .map_or(DEFAULT_PAGE_SIZE, i64::unsigned_abs);
        Ok(Self { page, page_size })
    }

    /// Items before this page. Cannot overflow: both factors are bounded.
    pub fn skip(self) -> u64 {
        (self.page - 1) * self.page_size
    }

    /// The page size as a store's `limit`.
    pub fn limit(self) -> i64 {
        i64::try_from(self.page_size).unwrap_or(i64::MAX)
    }
}

/// A filter string of at most `max_chars` characters with no control characters, or `None` when
/// absent or empty.
pub fn filter_text(
    name: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, QueryError> {
    let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > max_chars {
        return Err(QueryError::Invalid(format!(
            "{name} must be at most {max_chars} characters"
        )));
    }
    if raw.chars().any(char::is_control) {
        return Err(QueryError::Invalid(format!(
            "{name} must not contain control characters"
        )));
    }
    Ok(Some(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_default_and_stay_within_bounds() {
        assert_eq!(
            Page::parse(None, Some("")),
            Ok(Page {
                page: 1,
                page_size: DEFAULT_PAGE_SIZE
            })
        );
        let last = Page::parse(Some("1000000"), Some("100")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(last.skip(), 99_999_900);
        for (page, size) in [
            (Some("0"), None),
            (Some("-1"), None),
            (Some("1000001"), None),
            (Some("18446744073709551616"), None),
            (Some("99999999999999999999999999999"), None),
            (None, Some("0")),
            (None, Some("101")),
            (None, Some("-9223372036854775809")),
        ] {
            assert!(
                matches!(Page::parse(page, size), Err(QueryError::Invalid(_))),
                "{page:?} {size:?}"
            );
        }
        for (page, size) in [
            (Some("one"), None),
            (Some("1.5"), None),
            (None, Some("2e3")),
            (Some("-"), None),
        ] {
            assert!(
                matches!(Page::parse(page, size), Err(QueryError::Malformed(_))),
                "{page:?} {size:?}"
            );
        }
    }

    #[test]
    fn filter_text_is_capped_and_plain() {
        assert_eq!(filter_text("brand", Some(""), 5), Ok(None));
        assert_eq!(
            filter_text("brand", Some("Acme"), 5),
            Ok(Some("Acme".into()))
        );
        assert_eq!(
            filter_text("brand", Some("ééééé"), 5),
            Ok(Some("ééééé".into()))
        );
        assert!(matches!(
            filter_text("brand", Some("Acme12"), 5),
            Err(QueryError::Invalid(_))
        ));
        assert!(matches!(
            filter_text("brand", Some("a\nb"), 5),
            Err(QueryError::Invalid(_))
        ));
    }
}
