//! Session tokens: 32 bytes from the operating system's CSPRNG, written as base64url without
//! padding. Redis only ever sees a token's SHA-256, so a dump of Redis holds no usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::SessionError;

/// Random bytes per token: 256 bits, beyond guessing however many sessions exist.
pub const TOKEN_BYTES: usize = 32;

/// The length of a token as text: 32 bytes in unpadded base64 are 43 characters.
pub const TOKEN_LEN: usize = 43;

/// A new token. The OS generator, not a user-space one seeded from it: a token is a credential,
/// and this is the one place where it comes into being.
pub(crate) fn generate() -> Result<String, SessionError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| SessionError::Random(error.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `token` could have come from [`generate`]: 43 base64url characters, canonical (the
/// engine rejects stray trailing bits), decoding to 32 bytes. Anything else is refused before
/// Redis is asked, so junk in an `Authorization` header costs no round trip.
pub(crate) fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES)
}

/// The SHA-256 of the token, in lowercase hex: the part of the Redis key that names the session.
/// A plain hash suffices (no salt, no slow hash): the input is 256 random bits, not a password.
pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() -> Result<(), SessionError> {
        let a = generate()?;
        let b = generate()?;

        assert_eq!(a.len(), TOKEN_LEN);
        assert!(is_well_formed(&a), "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        Ok(())
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        let valid = URL_SAFE_NO_PAD.encode([7u8; TOKEN_BYTES]);
        let padded = format!("{valid}=");
        let too_short = &valid[..TOKEN_LEN - 1];
        let wrong_alphabet = valid.replacen('A', "+", 1).replacen('H', "/", 1);
        // The last character carries 2 unused bits; a non-zero value there is not canonical.
        let non_canonical = format!("{}B", &valid[..TOKEN_LEN - 1]);

        assert!(is_well_formed(&valid));
        for token in [
            "",
            "Bearer",
            too_short,
            &padded,
            &wrong_alphabet,
            &non_canonical,
            &"é".repeat(22),
        ] {
            assert!(!is_well_formed(token), "{token:?}");
        }
    }

    #[test]
    fn the_digest_is_sha256_in_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
