//! Where the operators' token comes from, and which tokens are refused at start-up.
//!
//! `SHOP_ADMIN_TOKEN` opens every `/api/ops/*` endpoint (dead-letter replays, the order-history
//! rebuild), so the gateway will not start on a token an attacker could guess: a placeholder
//! copied from an example file, or one with less than [`MIN_BITS`] of estimated entropy. Without
//! `SHOP_ADMIN_TOKEN`, `SHOP_ADMIN_TOKEN_FILE` names a file that holds the token; when the file
//! does not exist yet the gateway writes a new random token into it (mode 0600), so
//! `docker compose up` needs no manual step and ships no known token.

use std::io::{self, Write};
use std::path::Path;

use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};

/// The least estimated entropy of an accepted token: out of reach of any online or offline guess.
pub const MIN_BITS: f64 = 128.0;

/// Random bytes of a generated token (written as 64 hex digits): 256 bits.
const GENERATED_BYTES: usize = 32;

/// How to make a good token, for every refusal's message.
pub const HOW_TO_MAKE_ONE: &str = "make one with `openssl rand -hex 32`, or leave SHOP_ADMIN_TOKEN \
    unset and set SHOP_ADMIN_TOKEN_FILE to a path where the gateway generates one";

/// Words of the example files' placeholders (`change-me-to-a-long-random-string`,
/// `REPLACE_WITH_A_LONG_RANDOM_TOKEN`) and of the usual others: a token holding one was typed by a
/// person or copied from a README, whatever its length.
const PLACEHOLDER_WORDS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "replace",
    "example",
    "placeholder",
    "your-token",
    "your_token",
    "password",
    "secret",
    "random-string",
    "random_token",
];

/// Why `token` is refused, or `None` when it is strong enough.
pub fn weakness(token: &str) -> Option<String> {
    let lowered = token.to_ascii_lowercase();
    if let Some(word) = PLACEHOLDER_WORDS
        .iter()
        .find(|word| lowered.contains(*word))
    {
        return Some(format!(
            "it looks like a placeholder (it contains {word:?})"
        ));
    }
    let bits = estimated_bits(token);
    (bits < MIN_BITS).then(|| {
        format!("it has about {bits:.0} bits of entropy, and at least {MIN_BITS:.0} are required")
    })
}

/// A conservative estimate: length × log2 of the smaller of the alphabet its character classes
/// span and the number of distinct characters it uses. The first bounds a random string of those
/// classes; the second catches repetition (`aaaa…`, `abab…`), which the classes alone would score
/// as random; a token that repeats a unit is scored as the unit. It underrates a short random token (32 hex digits score about 125 bits) rather than
/// overrate a long typed one, and the generator's 64 hex digits score 256.
pub fn estimated_bits(token: &str) -> f64 {
    let all: Vec<char> = token.chars().collect();
    // A token that repeats a shorter unit (`abab…`, `token-token-…`) is worth its unit.
    let period = (1..=all.len())
        .find(|&period| all.iter().enumerate().all(|(i, c)| *c == all[i % period]))
        .unwrap_or(all.len());
    let chars = &all[..period];
    let classes = [
        (chars.iter().any(char::is_ascii_lowercase), 26),
        (chars.iter().any(char::is_ascii_uppercase), 26),
        (chars.iter().any(char::is_ascii_digit), 10),
        (chars.iter().any(|c| !c.is_ascii_alphanumeric()), 33),
    ];
    let alphabet: u32 = classes
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, size)| size)
        .sum();
    let mut distinct = chars.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let symbols = alphabet.min(u32::try_from(distinct.len()).unwrap_or(u32::MAX));
    if symbols < 2 {
        return 0.0;
    }
    f64::from(u32::try_from(chars.len()).unwrap_or(u32::MAX)) * f64::from(symbols).log2()
}

/// The token in `path`, first writing a new random one there when the file does not exist.
/// `create_new` makes two gateways starting at once on one volume agree: one writes, the other
/// finds the file and reads it (retrying briefly while the writer has not finished).
pub fn load_or_generate(path: &Path) -> io::Result<SecretString> {
    match read(path)? {
        Some(token) => Ok(token),
        None => generate_into(path),
    }
}

fn read(path: &Path) -> io::Result<Option<SecretString>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is empty; delete it to have a token generated",
                path.display()
            ),
        )),
        Ok(text) => Ok(Some(SecretString::from(text.trim().to_owned()))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

fn generate_into(path: &Path) -> io::Result<SecretString> {
    let mut bytes = [0u8; GENERATED_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| io::Error::other(format!("the OS random generator failed: {error}")))?;
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{token}\n").as_bytes())?;
            file.sync_all()?;
            tracing::warn!(path = %path.display(), "generated a new SHOP_ADMIN_TOKEN into this file");
            Ok(SecretString::from(token))
        }
        // Another gateway won the race: its token is the one.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            for _ in 0..50 {
                if let Ok(Some(token)) = read(path) {
                    return Ok(token);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            read(path)?.ok_or_else(|| io::Error::other("the token file vanished"))
        }
        Err(error) => Err(error),
    }
}

/// `token`, or the reason it is refused, for the configuration's error.
pub fn accept(token: SecretString) -> Result<SecretString, String> {
    match weakness(token.expose_secret()) {
        Some(reason) => Err(format!("refused: {reason}; {HOW_TO_MAKE_ONE}")),
        None => Ok(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_guessable_tokens_are_refused() {
        for token in [
            "change-me-to-a-long-random-string",
            "REPLACE_WITH_A_LONG_RANDOM_TOKEN",
            "my-super-secret-admin-token-that-is-very-long-indeed",
            "admin",
            "a-long-enough-admin-token",
            "test-admin-token-0123456789",
            &"a".repeat(200),
            &"ab".repeat(100),
        ] {
            assert!(weakness(token).is_some(), "{token} was accepted");
        }
    }

    #[test]
    fn random_tokens_are_accepted() {
        for token in [
            // openssl rand -hex 32
            "9f1c2e7a4b6d8f0e3a5c7b9d1f2e4a6c8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f8e",
            // openssl rand -base64 24
            "q3J9xT2mVb7LwZ0kR5nY8cHs4dGf1aEu",
            // a session-style token: 32 bytes of base64url
            "Zr4T0x9mK2bQvL7nW1sY5cH8dG3fJ6aE0uP9oI2kM4l",
        ] {
            assert_eq!(weakness(token), None, "{token}: {}", estimated_bits(token));
        }
    }

    #[test]
    fn a_missing_file_gets_a_strong_token_and_later_starts_read_the_same_one() -> io::Result<()> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("shop-admin-token-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("admin-token");

        let first = load_or_generate(&path)?;
        let second = load_or_generate(&path)?;

        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(weakness(first.expose_secret()), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, "  \n")?;
        assert!(
            load_or_generate(&path).is_err(),
            "an empty file is an error"
        );
        std::fs::remove_dir_all(&dir)
    }
}
