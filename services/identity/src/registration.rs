//! What a registration must satisfy, checked once at the HTTP edge: `RegisterRequest` (the body as
//! sent) becomes a `Registration` (valid by construction) or a 422 naming the field.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::ApiError;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Not a security limit (Argon2 takes any length) but a sanity one: nobody types more.
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_NAME_CHARS: usize = 100;
/// The longest address SMTP can deliver to.
const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_PART_LEN: usize = 64;

/// `POST /api/auth/register`'s body.
#[derive(Debug, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub password: SecretString,
    pub name: String,
}

/// A registration that passed every check.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: SecretString,
    /// Trimmed, 1 to 100 characters, no control characters.
    pub name: String,
}

impl TryFrom<RegisterRequest> for Registration {
    type Error = ApiError;

    fn try_from(request: RegisterRequest) -> Result<Self, ApiError> {
        let email = Email::parse(&request.email)?;
        let length = request.password.expose_secret().chars().count();
        if length < MIN_PASSWORD_CHARS {
            return Err(ApiError::WeakPassword(format!(
                "password must be at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(ApiError::InvalidPassword(format!(
                "password must be at most {MAX_PASSWORD_CHARS} characters"
            )));
        }
        let name = request.name.trim();
        let name_length = name.chars().count();
        if name_length == 0 || name_length > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ApiError::InvalidName(format!(
                "name must be 1 to {MAX_NAME_CHARS} characters, without control characters"
            )));
        }
        Ok(Self {
            email,
            password: request.password,
            name: name.to_owned(),
        })
    }
}

/// An email address: plausible in shape (deliverability is for a confirmation mail to prove), and
/// its key, the lowercased address that accounts are unique on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// As typed, trimmed.
    pub address: String,
    pub key: String,
}

impl Email {
    /// One `@`, a local part of 1 to 64 characters, a domain of dot-separated non-empty labels
    /// with at least one dot, no spaces or control characters, at most 254 bytes.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let address = raw.trim();
        let invalid =
            || ApiError::InvalidEmail(format!("{address:?} is not a valid email address"));
        if address.is_empty() || address.len() > MAX_EMAIL_LEN {
            return Err(invalid());
        }
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = address.split_once('@').ok_or_else(invalid)?;
        let valid_domain = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty()
            || local.len() > MAX_LOCAL_PART_LEN
            || domain.contains('@')
            || !valid_domain
        {
            return Err(invalid());
        }
        Ok(Self {
            address: address.to_owned(),
            key: Self::key_of(address),
        })
    }

    /// The key an address is stored and looked up under: trimmed and lowercased, so `A@x.com` and
    /// `a@x.com` are one account. Lowercasing the local part is a choice (RFC 5321 lets servers
    /// tell cases apart; no common provider does), and the usual one.
    pub fn key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, password: &str, name: &str) -> RegisterRequest {
        RegisterRequest {
            email: email.to_owned(),
            password: SecretString::from(password),
            name: name.to_owned(),
        }
    }

    fn code(result: Result<Registration, ApiError>) -> &'static str {
        result.err().map_or("ok", |error| error.code())
    }

    #[test]
    fn a_valid_registration_is_trimmed_and_keyed_by_the_lowercased_email() {
        let registration =
            Registration::try_from(request(" Ada@Example.COM ", "12345678", " Ada "));

        let registration = registration.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(registration.email.address, "Ada@Example.COM");
        assert_eq!(registration.email.key, "ada@example.com");
        assert_eq!(registration.name, "Ada");
    }

    #[test]
    fn malformed_emails_are_invalid_email() {
        for email in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a@b@example.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
            "ada lovelace@example.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("ada@{}.com", "e".repeat(250)),
        ] {
            assert_eq!(
                code(Registration::try_from(request(email, "12345678", "Ada"))),
                "invalid_email",
                "{email:?}"
            );
        }
    }

    #[test]
    fn passwords_shorter_than_eight_characters_are_weak() {
        assert_eq!(
            code(Registration::try_from(request("a@x.io", "1234567", "Ada"))),
            "weak_password"
        );
        assert_eq!(
            code(Registration::try_from(request("a@x.io", "", "Ada"))),
            "weak_password"
        );
        // Characters, not bytes: eight accented letters are eight characters.
        assert_eq!(
            code(Registration::try_from(request("a@x.io", "éééééééé", "Ada"))),
            "ok"
        );
        assert_eq!(
            code(Registration::try_from(request(
                "a@x.io",
                &"x".repeat(1025),
                "Ada"
            ))),
            "invalid_password"
        );
    }

    #[test]
    fn names_must_be_one_to_a_hundred_characters() {
        for name in ["", "   ", &"n".repeat(101), "Ada\u{0}"] {
            assert_eq!(
                code(Registration::try_from(request("a@x.io", "12345678", name))),
                "invalid_name",
                "{name:?}"
            );
        }
        assert_eq!(
            code(Registration::try_from(request(
                "a@x.io",
                "12345678",
                &"n".repeat(100)
            ))),
            "ok"
        );
    }
}
