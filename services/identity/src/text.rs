//! Names and emails in one normal form. What a user types is trimmed, Unicode-normalised and
//! refused when it carries characters that change how text looks or reads without being seen
//! (controls, format characters such as bidi overrides and zero-width joiners, invisible fillers):
//! such characters let two accounts look alike, or an email shown back read as another.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::ApiError;

pub const MAX_NAME_CHARS: usize = 100;
/// RFC 5321 §4.5.3.1: the longest path SMTP can deliver to is 256 octets with its angle brackets.
const MAX_EMAIL_LEN: usize = 254;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_PART_LEN: usize = 64;
/// Inputs longer than this (bytes) are refused before any normalisation work: NFKC can grow a
/// string, but no valid address of 254 octets is typed as more than four times as many bytes.
const MAX_RAW_EMAIL_BYTES: usize = 4 * MAX_EMAIL_LEN;

/// Letters and marks that render as nothing, which the general categories below do not catch:
/// the Hangul fillers, the Khmer inherent vowels, the combining grapheme joiner, the braille blank.
const INVISIBLE: [char; 8] = [
    '\u{034F}', '\u{115F}', '\u{1160}', '\u{17B4}', '\u{17B5}', '\u{2800}', '\u{3164}', '\u{FFA0}',
];

/// The first character a user should not be able to hide in a name or an address: a control
/// (`Cc`), a format character (`Cf`: bidi embeddings, overrides and isolates U+202A–U+202E and
/// U+2066–U+2069, the marks U+200E/F and U+061C, zero-width U+200B–U+200D, U+2060, U+FEFF, the
/// soft hyphen U+00AD, tag characters), a line or paragraph separator, a private-use character, or
/// an invisible filler.
pub fn hidden_character(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(
            c.general_category(),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
        ) || INVISIBLE.contains(&c)
    })
}

/// A display name: trimmed, in NFC (one encoding per visible text), 1 to 100 characters, nothing
/// hidden in it.
pub fn normal_name(raw: &str) -> Result<String, ApiError> {
    let name: String = raw.trim().nfc().collect();
    if let Some(c) = hidden_character(&name) {
        return Err(ApiError::InvalidName(format!(
            "name must not contain control, format, bidirectional or invisible characters \
             (found U+{:04X})",
            u32::from(c)
        )));
    }
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS {
        return Err(ApiError::InvalidName(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name)
}

/// An email address: plausible in shape (deliverability is for a confirmation mail to prove), and
/// its key, the normal form accounts are unique on and looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// As typed, trimmed, in NFC: shown back, never compared.
    pub address: String,
    /// NFKC; the local part lowercased; the domain through IDNA (UTS #46) to ASCII, so lowercase
    /// and in punycode: `Ａda@Bücher.DE` is `ada@xn--bcher-kva.de`.
    pub key: String,
}

impl Email {
    /// One `@`, a local part of 1 to 64 octets, a domain IDNA accepts with at least one dot and no
    /// empty label, at most 254 octets in all (in normal form), no whitespace and nothing hidden.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let trimmed = raw.trim();
        let invalid =
            || ApiError::InvalidEmail(format!("{trimmed:?} is not a valid email address"));
        if trimmed.is_empty() || trimmed.len() > MAX_RAW_EMAIL_BYTES {
            return Err(invalid());
        }
        if let Some(c) = hidden_character(trimmed) {
            return Err(ApiError::InvalidEmail(format!(
                "an email address must not contain control, format, bidirectional or invisible \
                 characters (found U+{:04X})",
                u32::from(c)
            )));
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        // NFKC first: it folds look-alike forms (a fullwidth `＠` is `@`) before the shape is read.
        let folded: String = trimmed.nfkc().collect();
        let (local, domain) = folded.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || domain.contains('@') || hidden_character(&folded).is_some() {
            return Err(invalid());
        }
        let local = local.to_lowercase();
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
        let valid_domain = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        let key = format!("{local}@{domain}");
        if local.len() > MAX_LOCAL_PART_LEN || !valid_domain || key.len() > MAX_EMAIL_LEN {
            return Err(invalid());
        }
        Ok(Self {
            address: trimmed.nfc().collect(),
            key,
        })
    }

    /// The key accounts made before emails were normalised were stored under: the address trimmed
    /// and lowercased. Equal to [`Email::key`] for every ASCII address with a valid domain; logins
    /// fall back to it (and registrations check it) only where the two differ.
    pub fn legacy_key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    /// The keys a login with `raw` looks the account up by, in order: the normal form (when `raw`
    /// is a valid address), then the legacy key when it differs. Never empty.
    pub fn lookup_keys(raw: &str) -> Vec<String> {
        let legacy = Self::legacy_key_of(raw);
        match Self::parse(raw) {
            Ok(email) if email.key != legacy => vec![email.key, legacy],
            Ok(email) => vec![email.key],
            Err(_) => vec![legacy],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> Result<String, &'static str> {
        Email::parse(raw)
            .map(|email| email.key)
            .map_err(|e| e.code())
    }

    #[test]
    fn emails_are_trimmed_folded_lowercased_and_their_domain_made_ascii() {
        assert_eq!(key(" Ada@Example.COM "), Ok("ada@example.com".to_owned()));
        assert_eq!(key("ada@Bücher.DE"), Ok("ada@xn--bcher-kva.de".to_owned()));
        // NFKC: fullwidth letters and at sign are their plain forms.
        assert_eq!(key("ＡＤＡ＠example.com"), Ok("ada@example.com".to_owned()));
        // The composed and decomposed é are one key.
        assert_eq!(key("jos\u{e9}@example.com"), key("jose\u{301}@example.com"));
        assert_eq!(
            key("Jos\u{c9}@example.com"),
            Ok("jos\u{e9}@example.com".to_owned())
        );
    }

    #[test]
    fn the_address_shown_back_is_as_typed_in_nfc() -> Result<(), ApiError> {
        let email = Email::parse(" Jose\u{301}@Example.com ")?;

        assert_eq!(email.address, "Jos\u{e9}@Example.com");
        Ok(())
    }

    #[test]
    fn hidden_characters_in_an_email_are_invalid_email() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{061C}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{0007}',
            '\u{E0041}',
            '\u{3164}',
        ] {
            let email = format!("ad{c}a@example.com");
            assert_eq!(key(&email), Err("invalid_email"), "U+{:04X}", u32::from(c));
            let email = format!("ada@exam{c}ple.com");
            assert_eq!(key(&email), Err("invalid_email"), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn malformed_or_oversized_emails_are_invalid_email() {
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
            "ada@exa_mple.com",
            "ada@-example.com",
            &format!("{}@example.com", "a".repeat(65)),
            // 64 characters but 128 octets: the limit is in octets.
            &format!("{}@example.com", "é".repeat(64)),
            &format!("ada@{}.com", "e".repeat(250)),
            &format!(
                "{}@{}.com",
                "a".repeat(64),
                vec!["e".repeat(60); 4].join(".")
            ),
            &"a".repeat(10_000),
        ] {
            assert_eq!(key(email), Err("invalid_email"), "{email:?}");
        }
        assert!(key(&format!("{}@example.com", "a".repeat(64))).is_ok());
    }

    #[test]
    fn lookups_try_the_normal_form_then_the_legacy_key_where_they_differ() {
        assert_eq!(Email::lookup_keys(" Ada@X.io"), ["ada@x.io"]);
        assert_eq!(
            Email::lookup_keys("ada@Bücher.de"),
            ["ada@xn--bcher-kva.de", "ada@bücher.de"]
        );
        assert_eq!(
            Email::lookup_keys("not an email"),
            ["not an email"],
            "an invalid address can only match an account made before the rules"
        );
    }

    #[test]
    fn names_are_trimmed_and_composed() -> Result<(), ApiError> {
        assert_eq!(normal_name("  Ada Lovelace ")?, "Ada Lovelace");
        assert_eq!(normal_name("Jose\u{301}")?, "Jos\u{e9}");
        // Scripts, marks and emoji are names too.
        for name in ["Zoë", "محمد", "李小龍", "Ada ❤\u{FE0F}", "O'Brien-Smith"] {
            assert_eq!(normal_name(name)?, name);
        }
        Ok(())
    }

    #[test]
    fn names_with_hidden_characters_are_invalid_name() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{180E}',
            '\u{0000}',
            '\u{001B}',
            '\u{007F}',
            '\u{0085}',
            '\u{2028}',
            '\u{2029}',
            '\u{E000}',
            '\u{E0001}',
            '\u{115F}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{034F}',
            '\u{2800}',
        ] {
            let error = normal_name(&format!("Ada{c}Lovelace")).err();
            assert_eq!(
                error.as_ref().map(ApiError::code),
                Some("invalid_name"),
                "U+{:04X}",
                u32::from(c)
            );
            assert!(
                error.is_some_and(|e| e.to_string().contains(&format!("U+{:04X}", u32::from(c)))),
                "the message names the character"
            );
        }
    }

    #[test]
    fn names_must_be_one_to_a_hundred_characters_after_normalising() {
        for name in ["", "   ", &"n".repeat(101)] {
            assert_eq!(
                normal_name(name).map_err(|e| e.code()),
                Err("invalid_name"),
                "{name:?}"
            );
        }
        assert!(normal_name(&"n".repeat(100)).is_ok());
        // 100 composed characters typed as 200 code points.
        assert!(normal_name(&"e\u{301}".repeat(100)).is_ok());
    }
}
