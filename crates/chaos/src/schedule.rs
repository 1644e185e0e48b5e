//! The fault schedule: which fault, when, on what, for how long, drawn from a seed alone, so the
//! same seed always gives the same schedule (the executor then records what really happened).
//!
//! Faults run one after another (see `faults`): two overlapping faults would make a report hard to
//! read and a failure hard to attribute. The first round holds one fault of every kind (plus one
//! poisoning per stream) in a seeded order, so even a two-minute run covers them all; after that,
//! kinds are drawn by weight until the traffic window is used up.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::rng::Rng;

/// The shop's processes, as `scripts/dev.sh` names them.
pub const SERVICES: [&str; 6] = [
    "products",
    "orders",
    "payments",
    "order-history",
    "identity",
    "gateway",
];

/// The streams, by the short names the schedule uses (`orders` = `ORDERS_STREAM`, ...).
pub const STREAMS: [&str; 3] = ["orders", "payments", "identity"];

/// No fault starts before this into the traffic: users are logged in and orders are flowing.
const FIRST_FAULT_AT: Duration = Duration::from_secs(5);
/// Nor in the last stretch of the traffic, so recovery happens under load too.
const QUIET_END: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `kill -9` a service, restart it after the hold.
    Kill,
    /// `SIGSTOP` a service for the hold, then `SIGCONT`.
    Pause,
    /// Graceful stop (SIGTERM, drain), start again after the hold.
    Restart,
    /// `SIGKILL` Redis (lossy persistence: recent writes are gone), restart from its snapshot.
    RedisKill,
    /// `SIGSTOP` Redis: connections stay open, nothing answers.
    RedisPause,
    /// Stop the MongoDB-compatible store cleanly, start it again on the same port and data.
    MongoRestart,
    /// `SIGKILL` the store, start it again.
    MongoKill,
    /// `SIGSTOP` the store.
    MongoPause,
    /// Write malformed entries straight onto a stream.
    Poison,
}

impl FaultKind {
    pub const ALL: [Self; 9] = [
        Self::Kill,
        Self::Pause,
        Self::Restart,
        Self::RedisKill,
        Self::RedisPause,
        Self::MongoRestart,
        Self::MongoKill,
        Self::MongoPause,
        Self::Poison,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Pause => "pause",
            Self::Restart => "restart",
            Self::RedisKill => "redis-kill",
            Self::RedisPause => "redis-pause",
            Self::MongoRestart => "mongo-restart",
            Self::MongoKill => "mongo-kill",
            Self::MongoPause => "mongo-pause",
            Self::Poison => "poison",
        }
    }

    /// How often the kind is drawn after the first round.
    fn weight(self) -> u64 {
        match self {
            Self::Kill | Self::Pause => 3,
            Self::Restart => 2,
            _ => 1,
        }
    }

    /// The range the hold (downtime, freeze) is drawn from, in milliseconds.
    fn hold_range_ms(self) -> (u64, u64) {
        match self {
            Self::Kill => (500, 4_000),
            Self::Pause => (1_000, 8_000),
            Self::Restart => (0, 2_000),
            Self::RedisKill => (500, 3_000),
            Self::RedisPause | Self::MongoPause => (1_000, 5_000),
            Self::MongoRestart | Self::MongoKill => (500, 3_000),
            Self::Poison => (0, 0),
        }
    }

    /// What applying and undoing the fault costs besides its hold (a restart waits for readiness),
    /// so the planned times leave room for it.
    fn overhead(self) -> Duration {
        Duration::from_millis(match self {
            Self::Kill | Self::Restart => 3_000,
            Self::MongoRestart | Self::MongoKill => 2_000,
            Self::RedisKill => 1_500,
            Self::Pause | Self::RedisPause | Self::MongoPause => 300,
            Self::Poison => 200,
        })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One planned fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Its place in the schedule, from 1.
    pub index: usize,
    /// When it starts, from the start of the traffic.
    #[serde(rename = "atMs", serialize_with = "millis")]
    pub at: Duration,
    pub kind: FaultKind,
    /// A service name, `redis`, `mongo`, or a stream's short name (`orders`) for poison.
    pub target: String,
    /// How long the target stays down or frozen (0 for poison).
    #[serde(rename = "holdMs", serialize_with = "millis")]
    pub hold: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{:<3} t+{:>7.1}s  {:<13} {:<14} hold {:.1}s",
            self.index,
            self.at.as_secs_f64(),
            self.kind.name(),
            self.target,
            self.hold.as_secs_f64()
        )
    }
}

/// The gaps between one fault's end and the next fault's start, in milliseconds.
const GAP_MS: (u64, u64) = (1_500, 6_000);

/// The schedule of `seed` for traffic lasting `duration`.
pub fn generate(seed: u64, duration: Duration) -> Vec<Fault> {
    let mut rng = Rng::derive(seed, "fault-schedule");
    let last_start = duration.saturating_sub(QUIET_END);

    // First round: every kind once, and every stream poisoned once, in a seeded order.
    let mut first: Vec<(FaultKind, Option<&str>)> = FaultKind::ALL
        .iter()
        .filter(|kind| **kind != FaultKind::Poison)
        .map(|&kind| (kind, None))
        .collect();
    first.extend(STREAMS.iter().map(|&s| (FaultKind::Poison, Some(s))));
    rng.shuffle(&mut first);
    // The first round's kill hits `orders`, the service that holds placements in flight: killing it
    // mid-placement is the classic way to strand a reservation, so every run does it once.
    if let Some(kill) = first.iter_mut().find(|(kind, _)| *kind == FaultKind::Kill) {
        kill.1 = Some("orders");
    }

    let weights: Vec<u64> = FaultKind::ALL.iter().map(|k| k.weight()).collect();
    let mut faults = Vec::new();
    let mut at = FIRST_FAULT_AT;
    let mut planned = first.into_iter();
    while at <= last_start {
        let (kind, fixed_target) = match planned.next() {
            Some(next) => next,
            None => {
                let index = rng.weighted(&weights).unwrap_or(0);
                (FaultKind::ALL[index], None)
            }
        };
        let target = match fixed_target {
            Some(target) => target.to_owned(),
            None => target_for(kind, &mut rng),
        };
        let (low, high) = kind.hold_range_ms();
        let hold = Duration::from_millis(rng.between(low, high));
        faults.push(Fault {
            index: faults.len() + 1,
            at,
            kind,
            target,
            hold,
        });
        at += hold + kind.overhead() + Duration::from_millis(rng.between(GAP_MS.0, GAP_MS.1));
    }
    faults
}

fn target_for(kind: FaultKind, rng: &mut Rng) -> String {
    let from = |items: &[&str], rng: &mut Rng| rng.pick(items).copied().unwrap_or("").to_owned();
    match kind {
        FaultKind::Kill | FaultKind::Pause | FaultKind::Restart => from(&SERVICES, rng),
        FaultKind::RedisKill | FaultKind::RedisPause => "redis".to_owned(),
        FaultKind::MongoRestart | FaultKind::MongoKill | FaultKind::MongoPause => {
            "mongo".to_owned()
        }
        FaultKind::Poison => from(&STREAMS, rng),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const TWO_AND_A_HALF_MINUTES: Duration = Duration::from_secs(150);

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        let a = generate(42, TWO_AND_A_HALF_MINUTES);
        let b = generate(42, TWO_AND_A_HALF_MINUTES);
        let c = generate(43, TWO_AND_A_HALF_MINUTES);

        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_short_run_covers_every_kind_and_poisons_every_stream() {
        for seed in 0..50 {
            let faults = generate(seed, Duration::from_secs(120));
            let kinds: BTreeSet<FaultKind> = faults.iter().map(|f| f.kind).collect();
            let poisoned: BTreeSet<&str> = faults
                .iter()
                .filter(|f| f.kind == FaultKind::Poison)
                .map(|f| f.target.as_str())
                .collect();

            assert!(faults.len() >= 10, "seed {seed}: {} faults", faults.len());
            assert_eq!(kinds.len(), FaultKind::ALL.len(), "seed {seed}: {kinds:?}");
            assert_eq!(poisoned.len(), STREAMS.len(), "seed {seed}");
            assert!(
                faults
                    .iter()
                    .any(|f| f.kind == FaultKind::Kill && f.target == "orders"),
                "seed {seed}: orders is killed once"
            );
        }
    }

    #[test]
    fn faults_are_in_order_inside_the_window_with_holds_in_range_and_valid_targets() {
        for seed in [1, 7, 99, u64::MAX] {
            let duration = Duration::from_secs(1_800);
            let faults = generate(seed, duration);

            assert!(faults.len() > 100, "a soak has many faults");
            for (i, fault) in faults.iter().enumerate() {
                assert_eq!(fault.index, i + 1);
                assert!(fault.at >= FIRST_FAULT_AT && fault.at <= duration - QUIET_END);
                let (low, high) = fault.kind.hold_range_ms();
                let hold = u64::try_from(fault.hold.as_millis()).unwrap_or(u64::MAX);
                assert!((low..=high).contains(&hold), "{fault}");
                let valid = match fault.kind {
                    FaultKind::Kill | FaultKind::Pause | FaultKind::Restart => {
                        SERVICES.contains(&fault.target.as_str())
                    }
                    FaultKind::RedisKill | FaultKind::RedisPause => fault.target == "redis",
                    FaultKind::Poison => STREAMS.contains(&fault.target.as_str()),
                    _ => fault.target == "mongo",
                };
                assert!(valid, "{fault}");
            }
            for pair in faults.windows(2) {
                assert!(
                    pair[0].at + pair[0].hold < pair[1].at,
                    "{} / {}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn a_run_too_short_for_faults_has_none() {
        assert!(generate(1, Duration::from_secs(10)).is_empty());
    }
}
