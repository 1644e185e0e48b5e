//! Product images drawn here: the catalog's image URLs point at a host that does not resolve
//! offline, and the pages may load nothing from another origin. A placeholder is an SVG whose
//! colours come from a digest of the product id and whose text is a short label, the same for the
//! same inputs, so it caches like a real image.

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// `?label=`: the text on the image.
#[derive(Debug, Deserialize)]
pub struct ImageQuery {
    pub label: Option<String>,
}

/// The SVG of `image` (`<productId>.svg`), or `None` when the name holds no valid product id. The label keeps its first three letters or digits (anything else
/// is dropped, so nothing the caller sends can become markup); without one, the id's last four.
pub fn product_svg(image: &str, label: Option<&str>) -> Option<String> {
    let id = image.strip_suffix(".svg")?;
    shop_domain::ProductId::parse(id).ok()?;
    let label: String = match label {
        Some(label) => label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(3)
            .collect::<String>()
            .to_ascii_uppercase(),
        None => id
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
    };
    let digest = Sha256::digest(id.as_bytes());
    let hue = u16::from_be_bytes([digest[0], digest[1]]) % 360;
    let accent = (hue + 40) % 360;
    let shape = digest[2] % 3;
    let decoration = match shape {
        0 => r#"<circle cx="300" cy="60" r="90" fill="url(#b)" opacity=".55"/>"#,
        1 => {
            r#"<rect x="230" y="-40" width="200" height="200" transform="rotate(30 330 60)" fill="url(#b)" opacity=".5"/>"#
        }
        _ => r#"<path d="M0 300 L400 120 L400 300 Z" fill="url(#b)" opacity=".5"/>"#,
    };
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" aria-label="{label}"><defs><linearGradient id="a" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},55%,62%)"/><stop offset="1" stop-color="hsl({hue},50%,42%)"/></linearGradient><linearGradient id="b" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl({accent},70%,80%)"/><stop offset="1" stop-color="hsl({accent},60%,55%)"/></linearGradient></defs><rect width="400" height="300" fill="url(#a)"/>{decoration}<text x="200" y="170" text-anchor="middle" font-family="system-ui,sans-serif" font-size="72" font-weight="700" fill="#fff" opacity=".92">{label}</text></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_id_draws_the_same_image_and_ids_differ() {
        let one = product_svg("p-0001.svg", Some("Li"));
        assert_eq!(one, product_svg("p-0001.svg", Some("Li")));
        assert_ne!(one, product_svg("p-0002.svg", Some("Li")));
        assert!(one.is_some_and(|svg| svg.contains(">LI</text>")));
    }

    #[test]
    fn names_that_are_not_ids_and_markup_in_labels_are_refused_or_dropped() {
        for bad in ["p-0001", "../x.svg", ".svg", "a b.svg", "p<1>.svg"] {
            assert_eq!(product_svg(bad, None), None, "{bad}");
        }
        let svg = product_svg("p-1.svg", Some("<script>")).unwrap_or_default();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains(">SCR</text>"));
    }
}
