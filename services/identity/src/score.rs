//! The identity score: how familiar a login or a checkout looks for its user, judged against the
//! user's earlier records. Pure functions, no IO and no clock, so the rule is tested on its own.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// Where one event came from, as far as the score is concerned. `None` is unknown (no user agent,
/// or a checkout with no login to borrow a device from) and matches nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Device<'a> {
    pub fingerprint: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// Weight of "this browser has been seen before".
pub const FINGERPRINT_WEIGHT: f64 = 0.5;
/// Weight of "this address, or its network, has been seen before".
pub const NETWORK_WEIGHT: f64 = 0.3;
/// Weight of "this user has a history at all".
pub const HISTORY_WEIGHT: f64 = 0.2;
/// Earlier records after which the history term is full.
pub const ESTABLISHED_AFTER: usize = 5;
/// The credit for an address never seen whose network was: a /24 for IPv4, a /64 for IPv6 (a
/// household or an office behind one provider, one address apart).
pub const SAME_NETWORK_CREDIT: f64 = 0.5;

/// The score of an event from `current`, given the devices of the user's records strictly before
/// it (any order):
///
/// ```text
/// score = 0.5 · F + 0.3 · N + 0.2 · H
/// F = 1 if the fingerprint (SHA-256 of the user agent) appears in an earlier record, else 0
/// N = 1 if the IP appears in an earlier record, 0.5 if only its /24 (IPv4) or /64 (IPv6) does, else 0
/// H = min(1, earlier records / 5)
/// ```
///
/// So a user's first event scores 0, a second login from the same browser and address 0.84, and
/// an established user (5 or more records) on a known browser and address 1. Unknown parts give no
/// credit. The result is in [0, 1], rounded to four decimals.
pub fn score(current: Device<'_>, earlier: &[Device<'_>]) -> f64 {
    let fingerprint = match current.fingerprint {
        Some(known) if earlier.iter().any(|d| d.fingerprint == Some(known)) => 1.0,
        _ => 0.0,
    };
    let network = current
        .ip
        .map_or(0.0, |ip| network_familiarity(ip, earlier));
    let history = earlier.len().min(ESTABLISHED_AFTER) as f64 / ESTABLISHED_AFTER as f64;
    let total =
        FINGERPRINT_WEIGHT * fingerprint + NETWORK_WEIGHT * network + HISTORY_WEIGHT * history;
    (total.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0
}

/// The fingerprint of a browser: the SHA-256 (hex) of its user agent. An absent or blank agent has
/// none: two clients that both hide their agent are not "the same browser".
pub fn fingerprint(user_agent: &str) -> Option<String> {
    (!user_agent.trim().is_empty()).then(|| hex::encode(Sha256::digest(user_agent.as_bytes())))
}

/// 1 if `ip` was seen before, [`SAME_NETWORK_CREDIT`] if only its network was, else 0.
fn network_familiarity(ip: &str, earlier: &[Device<'_>]) -> f64 {
    let parsed = parse(ip);
    let same_address = |other: &str| match (parsed, parse(other)) {
        (Some(a), Some(b)) => a == b,
        _ => ip == other,
    };
    let earlier_ips = || earlier.iter().filter_map(|d| d.ip);
    if earlier_ips().any(same_address) {
        return 1.0;
    }
    match parsed.map(network) {
        Some(net)
            if earlier_ips()
                .filter_map(parse)
                .any(|other| network(other) == net) =>
        {
            SAME_NETWORK_CREDIT
        }
        _ => 0.0,
    }
}

/// An address in canonical form: an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack
/// socket reports) is the IPv4 address it carries.
fn parse(ip: &str) -> Option<IpAddr> {
    ip.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[derive(Debug, PartialEq, Eq)]
enum Network {
    V4([u8; 3]),
    V6([u16; 4]),
}

fn network(ip: IpAddr) -> Network {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Network::V4([a, b, c])
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            Network::V6([a, b, c, d])
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LAPTOP: &str = "laptop-fingerprint";
    const PHONE: &str = "phone-fingerprint";

    fn device<'a>(fingerprint: &'a str, ip: &'a str) -> Device<'a> {
        Device {
            fingerprint: Some(fingerprint),
            ip: Some(ip),
        }
    }

    #[test]
    fn a_users_first_event_scores_zero() {
        assert_eq!(score(device(LAPTOP, "203.0.113.7"), &[]), 0.0);
    }

    #[test]
    fn the_same_browser_and_address_again_scores_high() {
        let earlier = [device(LAPTOP, "203.0.113.7")];

        assert_eq!(score(device(LAPTOP, "203.0.113.7"), &earlier), 0.84);
    }

    #[test]
    fn a_new_browser_on_a_new_network_gets_only_the_history_term() {
        let earlier = [device(LAPTOP, "203.0.113.7"), device(LAPTOP, "203.0.113.7")];

        assert_eq!(score(device(PHONE, "198.51.100.1"), &earlier), 0.08);
    }

    #[test]
    fn a_new_address_in_a_known_network_gets_half_the_network_term() {
        let v4 = [device(LAPTOP, "203.0.113.7")];
        let v6 = [device(LAPTOP, "2001:db8:1:2::10")];

        assert_eq!(score(device(PHONE, "203.0.113.99"), &v4), 0.19);
        assert_eq!(score(device(PHONE, "2001:db8:1:2:ffff::1"), &v6), 0.19);
        assert_eq!(score(device(PHONE, "203.0.114.7"), &v4), 0.04);
    }

    #[test]
    fn an_ipv4_mapped_address_is_the_ipv4_address() {
        let earlier = [device(LAPTOP, "::ffff:203.0.113.7")];

        assert_eq!(score(device(PHONE, "203.0.113.7"), &earlier), 0.34);
    }

    #[test]
    fn an_established_user_on_a_known_device_scores_one() {
        let earlier = vec![device(LAPTOP, "203.0.113.7"); 12];

        assert_eq!(score(device(LAPTOP, "203.0.113.7"), &earlier), 1.0);
    }

    #[test]
    fn unknown_parts_match_nothing_not_even_other_unknowns() {
        let earlier = [Device::default(), Device::default()];

        assert_eq!(score(Device::default(), &earlier), 0.08);
        assert_eq!(
            score(device(LAPTOP, "not an ip"), &[device(LAPTOP, "not an ip")]),
            0.84
        );
    }

    #[test]
    fn a_fingerprint_is_the_sha256_of_the_agent_and_blank_agents_have_none() {
        assert_eq!(
            fingerprint("abc").as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(fingerprint(""), None);
        assert_eq!(fingerprint("  "), None);
    }

    fn any_device() -> impl Strategy<Value = (Option<String>, Option<String>)> {
        let fingerprint = proptest::option::of(prop::sample::select(vec!["a", "b", "c"]));
        let ip = proptest::option::of(prop::sample::select(vec![
            "10.0.0.1", "10.0.0.2", "10.0.1.1", "::1", "x",
        ]));
        (fingerprint, ip).prop_map(|(f, i)| (f.map(str::to_owned), i.map(str::to_owned)))
    }

    fn borrow(d: &(Option<String>, Option<String>)) -> Device<'_> {
        Device {
            fingerprint: d.0.as_deref(),
            ip: d.1.as_deref(),
        }
    }

    proptest! {
        #[test]
        fn the_score_is_in_the_unit_interval_and_never_falls_with_more_history(
            current in any_device(),
            earlier in proptest::collection::vec(any_device(), 0..12),
            extra in any_device(),
        ) {
            let devices: Vec<Device<'_>> = earlier.iter().map(borrow).collect();
            let before = score(borrow(&current), &devices);
            let mut more = devices.clone();
            more.push(borrow(&extra));
            let after = score(borrow(&current), &more);

            prop_assert!((0.0..=1.0).contains(&before));
            prop_assert!(after >= before, "{before} -> {after}");
        }
    }
}
