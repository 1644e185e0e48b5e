//! What a registration must satisfy, checked once at the HTTP edge: `RegisterRequest` (the body as
//! sent) becomes a `Registration` (valid by construction, its name and email in normal form; see
//! `text.rs`) or a 422 naming the field.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::ApiError;
use crate::text::normal_name;
pub use crate::text::{Email, MAX_NAME_CHARS};

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Not a security limit (Argon2 takes any length) but a sanity one: nobody types more.
pub const MAX_PASSWORD_CHARS: usize = 1024;

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
    /// Trimmed, NFC, 1 to 100 characters, nothing hidden (see `text::normal_name`).
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
        Ok(Self {
            email,
            password: request.password,
            name: normal_name(&request.name)?,
        })
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
    fn a_valid_registration_is_trimmed_and_keyed_by_the_normal_form_of_the_email() {
        let registration =
            Registration::try_from(request(" Ada@Example.COM ", "12345678", " Ada "));

        let registration = registration.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(registration.email.address, "Ada@Example.COM");
        assert_eq!(registration.email.key, "ada@example.com");
        assert_eq!(registration.name, "Ada");
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
    fn names_must_be_one_to_a_hundred_visible_characters() {
        for name in ["", "   ", &"n".repeat(101), "Ada\u{0}", "Ada\u{202E}"] {
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
