//! The request path, checked before it is routed: a path the gateway forwards is one that every
//! parser on the way (axum's router here, the URL library of the proxy, the upstream's router)
//! reads as the same sequence of segments.
//!
//! Why this is strict rather than a normaliser: the route table matches the raw path, but the
//! proxy's URL library (WHATWG rules) turns `\` into `/` and resolves `.`, `..`, `%2e` and `%2E`
//! as dot segments. `/api/products/..\..\metrics` is routed here as one product id and would be
//! sent upstream as `/metrics`. Normalising here as well would leave three parsers to agree on
//! every corner; refusing everything any of them could read differently leaves none.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Why a path is refused: the first ambiguity found, in the words of the 400's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    Backslash,
    /// `%2F`, `%5C`, `%2E` or `%25`: a separator, a dot or a second layer of encoding, hidden.
    EncodedDelimiter,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// An encoded control character or NUL.
    EncodedControl,
    /// A `.` or `..` segment.
    DotSegment,
    /// `//`: an empty segment, which some routers merge and others keep.
    EmptySegment,
}

impl Ambiguity {
    fn describe(self) -> &'static str {
        match self {
            Self::Backslash => "a backslash",
            Self::EncodedDelimiter => "an encoded '/', '\\', '.' or '%'",
            Self::BadEscape => "a '%' not followed by two hex digits",
            Self::EncodedControl => "an encoded control character",
            Self::DotSegment => "a '.' or '..' segment",
            Self::EmptySegment => "an empty segment ('//')",
        }
    }
}

/// The first reason `path` (the raw, still percent-encoded path of the request line) could be read
/// differently by another parser, or `None` when it is unambiguous.
pub fn ambiguity(path: &str) -> Option<Ambiguity> {
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => return Some(Ambiguity::Backslash),
            b'%' => {
                let decoded = bytes
                    .get(index + 1..index + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(Ambiguity::BadEscape);
                match decoded {
                    Err(ambiguity) => return Some(ambiguity),
                    Ok(b'/' | b'\\' | b'.' | b'%') => return Some(Ambiguity::EncodedDelimiter),
                    Ok(byte) if byte.is_ascii_control() => return Some(Ambiguity::EncodedControl),
                    Ok(_) => index += 3,
                }
            }
            _ => index += 1,
        }
    }
    // The segments between the leading '/' and an optional trailing one: a trailing slash routes
    // nowhere here but is not ambiguous; an empty segment inside the path is.
    let inner = path.strip_prefix('/').unwrap_or(path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    if inner.is_empty() {
        return None;
    }
    for segment in inner.split('/') {
        match segment {
            "." | ".." => return Some(Ambiguity::DotSegment),
            "" => return Some(Ambiguity::EmptySegment),
            _ => {}
        }
    }
    None
}

/// Middleware around every route: a path with an [`Ambiguity`] is a 400 `invalid_path`, answered
/// before any route (or upstream) sees it.
pub async fn refuse_ambiguous(request: Request, next: Next) -> Response {
    match ambiguity(request.uri().path()) {
        Some(ambiguity) => ApiError::InvalidPath(ambiguity.describe()).into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::Ambiguity::*;
    use super::*;

    #[test]
    fn plain_paths_pass() {
        for path in [
            "/",
            "/api/products",
            "/api/products/",
            "/api/products/p-1",
            "/api/products/caf%C3%A9",
            "/api/orders/01M8T3TM3X9W4BH4WTWEYXC95B",
            "/api/products/a.b",
            "/api/products/...",
            "/api/products/%20x",
        ] {
            assert_eq!(ambiguity(path), None, "{path}");
        }
    }

    #[test]
    fn anything_another_parser_could_read_differently_is_refused() {
        let table = [
            ("/api/products/..\\..\\metrics", Backslash),
            ("/api/products/p\\1", Backslash),
            ("/api/products/..%5C..%5Cmetrics", EncodedDelimiter),
            ("/api/products/..%5c..%5cmetrics", EncodedDelimiter),
            ("/api/products/%2e%2e%2fmetrics", EncodedDelimiter),
            ("/api/products/%2E%2E", EncodedDelimiter),
            ("/api/products/a%2Fb", EncodedDelimiter),
            ("/api/products/%252e%252e", EncodedDelimiter),
            ("/api/products/%", BadEscape),
            ("/api/products/%zz", BadEscape),
            ("/api/products/%2", BadEscape),
            ("/api/products/%00", EncodedControl),
            ("/api/products/%0d%0aX:1", EncodedControl),
            ("/api/products/../../metrics", DotSegment),
            ("/api/products/./p-1", DotSegment),
            ("/api/ops/..", DotSegment),
            ("/..", DotSegment),
            ("/api//products", EmptySegment),
            ("//metrics", EmptySegment),
        ];
        for (path, expected) in table {
            assert_eq!(ambiguity(path), Some(expected), "{path}");
        }
    }
}
