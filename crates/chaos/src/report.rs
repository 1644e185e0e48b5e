//! The report of a run: the seed, the fault schedule with what each fault did, the traffic's
//! totals, how the system settled, and the verdict table. Rendered as Markdown (printed, and
//! written next to a JSON copy) so it can be pasted into a note as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::faults::FaultRecord;
use crate::invariants::Verdict;
use crate::poison::InjectedPoison;
use crate::traffic::{Outcome, TrafficLog};
use crate::world::{PAID, PAYMENT_FAILED, StreamState, World};

/// What the traffic did, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub attempts: u64,
    pub keys: u64,
    /// 2xx answers (a retried key answered twice counts twice).
    pub created: u64,
    /// Distinct orders the clients were told about.
    pub created_orders: u64,
    /// 4xx answers by `status code`, e.g. `409 out_of_stock`.
    pub rejected: BTreeMap<String, u64>,
    /// 5xx answers by `status code`.
    pub failed: BTreeMap<String, u64>,
    pub no_answer: u64,
    pub no_answer_by_reason: BTreeMap<String, u64>,
    pub browses: u64,
    pub browse_failures: u64,
    pub relogins: u64,
    /// From the orders database after the run.
    pub orders_total: u64,
    pub orders_paid: u64,
    pub orders_failed: u64,
    pub orders_open: u64,
}

impl Totals {
    pub fn of(traffic: &TrafficLog, world: Option<&World>) -> Self {
        let mut totals = Self {
            attempts: traffic.attempts.len() as u64,
            browses: traffic.browses,
            browse_failures: traffic.browse_failures,
            relogins: traffic.relogins,
            ..Self::default()
        };
        let mut keys = BTreeSet::new();
        let mut orders = BTreeSet::new();
        for attempt in &traffic.attempts {
            keys.insert((&attempt.user_id, &attempt.key));
            match &attempt.outcome {
                Outcome::Created { order_id, .. } => {
                    totals.created += 1;
                    orders.insert(order_id);
                }
                Outcome::Rejected { status, code } => {
                    *totals.rejected.entry(label(*status, code)).or_default() += 1;
                }
                Outcome::Failed { status, code } => {
                    *totals.failed.entry(label(*status, code)).or_default() += 1;
                }
                Outcome::NoAnswer { reason } => {
                    totals.no_answer += 1;
                    let reason = reason.split(':').next().unwrap_or(reason).to_owned();
                    *totals.no_answer_by_reason.entry(reason).or_default() += 1;
                }
            }
        }
        totals.keys = keys.len() as u64;
        totals.created_orders = orders.len() as u64;
        if let Some(world) = world {
            totals.orders_total = world.orders.len() as u64;
            for order in world.orders.values() {
                match order.status {
                    PAID => totals.orders_paid += 1,
                    PAYMENT_FAILED => totals.orders_failed += 1,
                    _ => totals.orders_open += 1,
                }
            }
        }
        totals
    }
}

fn label(status: u16, code: &str) -> String {
    if code.is_empty() {
        status.to_string()
    } else {
        format!("{status} {code}")
    }
}

/// Order attempts and 201s per time bucket of the traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub from_s: u64,
    pub attempts: u64,
    pub created: u64,
    pub no_answer: u64,
    pub server_errors: u64,
}

/// `traffic_ms` cut into about 30 buckets of at least 10 s.
pub fn timeline(traffic: &TrafficLog, traffic_ms: u64) -> Vec<Bucket> {
    let width_s = (traffic_ms / 1000 / 30).max(10);
    let count = usize::try_from(traffic_ms / 1000 / width_s + 1).unwrap_or(1);
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket {
            from_s: i as u64 * width_s,
            ..Bucket::default()
        })
        .collect();
    for attempt in &traffic.attempts {
        let i = usize::try_from(attempt.at_ms / 1000 / width_s).unwrap_or(0);
        let Some(bucket) = buckets.get_mut(i) else {
            continue;
        };
        bucket.attempts += 1;
        match attempt.outcome {
            Outcome::Created { .. } => bucket.created += 1,
            Outcome::NoAnswer { .. } => bucket.no_answer += 1,
            Outcome::Failed { .. } => bucket.server_errors += 1,
            Outcome::Rejected { .. } => {}
        }
    }
    buckets
}

/// How the quiesce went.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settle {
    pub settled: bool,
    pub waited_ms: u64,
    pub window_ms: u64,
    pub detail: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub seed: u64,
    pub reproduce: String,
    pub started_at: String,
    pub traffic_ms: u64,
    pub total_ms: u64,
    pub faults: Vec<FaultRecord>,
    pub totals: Totals,
    pub timeline: Vec<Bucket>,
    pub settle: Settle,
    pub streams: Vec<StreamState>,
    pub poison: Vec<InjectedPoison>,
    pub verdicts: Vec<Verdict>,
    pub passed: bool,
    /// Why the harness could not check (the stack could not be read): then `passed` is false.
    pub error: Option<String>,
}

impl Report {
    pub fn applied_faults(&self) -> usize {
        self.faults.iter().filter(|f| f.applied).count()
    }

    pub fn applied_kinds(&self) -> usize {
        self.faults
            .iter()
            .filter(|f| f.applied)
            .map(|f| f.fault.kind)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The Markdown rendering.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "# Chaos run, seed {}: {verdict}\n", self.seed);
        let _ = writeln!(
            out,
            "Started {}; traffic {:.0} s; whole run {:.0} s. Reproduce: `{}`\n",
            self.started_at,
            self.traffic_ms as f64 / 1000.0,
            self.total_ms as f64 / 1000.0,
            self.reproduce
        );
        if let Some(error) = &self.error {
            let _ = writeln!(out, "**The harness could not finish: {error}**\n");
        }

        let _ = writeln!(
            out,
            "## Faults: {} planned, {} applied, {} kinds\n",
            self.faults.len(),
            self.applied_faults(),
            self.applied_kinds()
        );
        let _ = writeln!(
            out,
            "| # | planned | started | kind | target | hold | applied | took | what happened |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
        for f in &self.faults {
            let secs = |ms: Option<u64>| {
                ms.map_or("-".to_owned(), |ms| format!("{:.1}s", ms as f64 / 1000.0))
            };
            let mut what = f.note.clone();
            if let Some(error) = &f.error {
                what = format!("{what} ERROR: {error}");
            }
            let _ = writeln!(
                out,
                "| {} | {:.1}s | {} | {} | {} | {:.1}s | {} | {} | {} |",
                f.fault.index,
                f.fault.at.as_secs_f64(),
                secs(f.started_ms),
                f.fault.kind,
                f.fault.target,
                f.fault.hold.as_secs_f64(),
                if f.applied { "yes" } else { "no" },
                secs(f.took_ms),
                cell(&what, 300)
            );
        }

        let t = &self.totals;
        let _ = writeln!(out, "\n## Traffic\n");
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| order attempts | {} ({} keys) |", t.attempts, t.keys);
        let _ = writeln!(
            out,
            "| 201 answers | {} ({} distinct orders) |",
            t.created, t.created_orders
        );
        let _ = writeln!(out, "| 4xx | {} |", counts(&t.rejected));
        let _ = writeln!(out, "| 5xx | {} |", counts(&t.failed));
        let _ = writeln!(
            out,
            "| no answer | {} ({}) |",
            t.no_answer,
            counts(&t.no_answer_by_reason)
        );
        let _ = writeln!(
            out,
            "| browse requests | {} ({} not 200) |",
            t.browses, t.browse_failures
        );
        let _ = writeln!(out, "| logins after a lost session | {} |", t.relogins);
        let _ = writeln!(
            out,
            "| orders in the database | {} (paid {}, payment_failed {}, still created {}) |",
            t.orders_total, t.orders_paid, t.orders_failed, t.orders_open
        );
        let _ = writeln!(
            out,
            "\nOrder attempts over time (201 / no answer / 5xx of all; faults started):\n"
        );
        let _ = writeln!(out, "```");
        let width = self.timeline.get(1).map_or(10, |b| b.from_s);
        for bucket in &self.timeline {
            let started: Vec<String> = self
                .faults
                .iter()
                .filter(|f| {
                    f.started_ms.is_some_and(|ms| {
                        ms / 1000 >= bucket.from_s && ms / 1000 < bucket.from_s + width
                    })
                })
                .map(|f| format!("#{} {} {}", f.fault.index, f.fault.kind, f.fault.target))
                .collect();
            let _ = writeln!(
                out,
                "t+{:>4}s  {:>4} / {:>4} / {:>4} of {:>5}  {}",
                bucket.from_s,
                bucket.created,
                bucket.no_answer,
                bucket.server_errors,
                bucket.attempts,
                started.join(", ")
            );
        }
        let _ = writeln!(out, "```");
        let _ = writeln!(
            out,
            "\nSettled: {} after {:.0} s (window {:.0} s). {}",
            if self.settle.settled { "yes" } else { "NO" },
            self.settle.waited_ms as f64 / 1000.0,
            self.settle.window_ms as f64 / 1000.0,
            self.settle.detail
        );

        let _ = writeln!(out, "\n## Streams\n");
        let _ = writeln!(
            out,
            "| stream | length | last id | dead letters |\n|---|---|---|---|"
        );
        for s in &self.streams {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                s.name, s.length, s.last_id, s.dead_letters
            );
        }
        let written = self.poison.iter().filter(|p| p.id.is_some()).count();
        let _ = writeln!(
            out,
            "\nPoison entries written: {written} of {}.",
            self.poison.len()
        );

        let _ = writeln!(out, "\n## Verdict\n");
        let _ = writeln!(
            out,
            "| invariant | checked | violations | examples |\n|---|---|---|---|"
        );
        for v in &self.verdicts {
            let mut examples = v.examples.join("; ");
            if !v.note.is_empty() {
                examples = if examples.is_empty() {
                    format!("({})", v.note)
                } else {
                    format!("{examples} ({})", v.note)
                };
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                v.name,
                v.checked,
                if v.holds() {
                    "0".to_owned()
                } else {
                    format!("**{}**", v.violations)
                },
                cell(&examples, 1_500)
            );
        }
        let _ = writeln!(
            out,
            "\n**{verdict}**: {} of {} invariants hold.",
            self.verdicts.iter().filter(|v| v.holds()).count(),
            self.verdicts.len()
        );
        out
    }
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "0".to_owned();
    }
    let total: u64 = map.values().sum();
    let parts: Vec<String> = map.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    format!("{total} ({})", parts.join(", "))
}

/// Text fit for a Markdown table cell: no pipes or newlines, bounded.
fn cell(text: &str, max: usize) -> String {
    let clean = text.replace('|', "/").replace('\n', " ");
    if clean.chars().count() <= max {
        clean
    } else {
        format!("{}…", clean.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Attempt;

    fn attempt(key: &str, outcome: Outcome) -> Attempt {
        Attempt {
            client: 1,
            user_id: "u".into(),
            key: key.into(),
            try_no: 1,
            lines: vec![],
            at_ms: 0,
            took_ms: 0,
            timeout_ms: 0,
            outcome,
        }
    }

    #[test]
    fn totals_count_answers_by_kind_and_code() {
        let traffic = TrafficLog {
            attempts: vec![
                attempt(
                    "a",
                    Outcome::NoAnswer {
                        reason: "timeout".into(),
                    },
                ),
                attempt(
                    "a",
                    Outcome::Created {
                        order_id: "o1".into(),
                        amount: 5,
                    },
                ),
                attempt(
                    "a",
                    Outcome::Created {
                        order_id: "o1".into(),
                        amount: 5,
                    },
                ),
                attempt(
                    "b",
                    Outcome::Rejected {
                        status: 409,
                        code: "out_of_stock".into(),
                    },
                ),
                attempt(
                    "c",
                    Outcome::Failed {
                        status: 503,
                        code: String::new(),
                    },
                ),
                attempt(
                    "c",
                    Outcome::NoAnswer {
                        reason: "transport: reset".into(),
                    },
                ),
            ],
            ..TrafficLog::default()
        };
        let totals = Totals::of(&traffic, None);

        assert_eq!(totals.attempts, 6);
        assert_eq!(totals.keys, 3);
        assert_eq!((totals.created, totals.created_orders), (2, 1));
        assert_eq!(totals.rejected.get("409 out_of_stock"), Some(&1));
        assert_eq!(totals.failed.get("503"), Some(&1));
        assert_eq!(totals.no_answer, 2);
        assert_eq!(totals.no_answer_by_reason.get("transport"), Some(&1));
    }

    #[test]
    fn cells_lose_their_pipes_and_are_bounded() {
        assert_eq!(cell("a|b\nc", 10), "a/b c");
        assert_eq!(cell("abcdef", 3), "abc…");
    }
}
