//! Applying the schedule: each fault at its planned time (or as soon as the previous one is undone),
//! held, then undone, and recorded with what really happened: when, whether it applied, what it
//! cost (entries a Redis kill lost), and any error. A fault whose time comes after the traffic has
//! ended is recorded as not applied. Whatever a fault broke is repaired before the next starts.

use serde::Serialize;
use shop_streams::StreamNames;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::Instant;

use crate::dev::Dev;
use crate::poison::{self, InjectedPoison};
use crate::redis::RedisView;
use crate::resp::Reply;
use crate::schedule::{Fault, FaultKind};

/// What happened to one planned fault.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRecord {
    #[serde(flatten)]
    pub fault: Fault,
    /// When it really started, from the start of the traffic.
    pub started_ms: Option<u64>,
    /// How long applying, holding and undoing took.
    pub took_ms: Option<u64>,
    pub applied: bool,
    /// Whether the target was brought back (always true for poison).
    pub recovered: bool,
    /// What it did: entries lost, poison ids, the odd-arity answer...
    pub note: String,
    pub error: Option<String>,
}

/// The streams a Redis kill is measured on, and poison is written to.
#[derive(Debug, Clone)]
pub struct Streams {
    pub names: StreamNames,
}

impl Streams {
    /// The full name of a stream from its short name (`orders`).
    pub fn full(&self, short: &str) -> String {
        match short {
            "orders" => self.names.orders.clone(),
            "payments" => self.names.payments.clone(),
            _ => self.names.identity.clone(),
        }
    }

    pub fn all(&self) -> Vec<String> {
        vec![
            self.names.orders.clone(),
            self.names.payments.clone(),
            self.names.identity.clone(),
        ]
    }
}

/// Everything the executor touches.
#[derive(Debug, Clone)]
pub struct Context {
    pub dev: Dev,
    pub redis: RedisView,
    pub streams: Streams,
    /// The start of the traffic: fault times count from it.
    pub start: Instant,
    /// Every poison entry written, shared with the checks.
    pub poison: Arc<Mutex<Vec<InjectedPoison>>>,
    /// When the last Redis restart after a kill happened (ms from the start), for the poison
    /// accounting.
    pub last_redis_restart_ms: Arc<Mutex<Option<u64>>>,
    /// A seed-derived tag that makes this run's poison ids unique.
    pub run_tag: String,
}

impl Context {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Runs `schedule` until `traffic_end`; returns one record per planned fault.
pub async fn run(ctx: Context, schedule: Vec<Fault>, traffic_end: Instant) -> Vec<FaultRecord> {
    let mut records = Vec::with_capacity(schedule.len());
    let mut odd_arity_probed = false;
    for fault in schedule {
        let planned = ctx.start + fault.at;
        if planned >= traffic_end || Instant::now() >= traffic_end {
            records.push(FaultRecord {
                fault,
                started_ms: None,
                took_ms: None,
                applied: false,
                recovered: true,
                note: "not applied: the traffic ended before its turn".to_owned(),
                error: None,
            });
            continue;
        }
        tokio::time::sleep_until(planned).await;
        let started = Instant::now();
        let started_ms = ctx.elapsed_ms();
        let mut record = FaultRecord {
            fault: fault.clone(),
            started_ms: Some(started_ms),
            took_ms: None,
            applied: false,
            recovered: false,
            note: String::new(),
            error: None,
        };
        apply(&ctx, &fault, &mut record, &mut odd_arity_probed).await;
        record.took_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        eprintln!(
            "chaos: fault {} at t+{:.1}s: {} {}{}{}",
            fault.index,
            started_ms as f64 / 1000.0,
            fault.kind,
            fault.target,
            if record.applied { "" } else { " (NOT applied)" },
            if record.note.is_empty() {
                String::new()
            } else {
                format!(": {}", record.note)
            }
        );
        records.push(record);
    }
    records
}

/// Applies one fault, holds it, undoes it.
async fn apply(ctx: &Context, fault: &Fault, record: &mut FaultRecord, probed: &mut bool) {
    let target = fault.target.as_str();
    let (down, up): (Vec<&str>, Vec<&str>) = match fault.kind {
        FaultKind::Kill => (vec!["kill", target], vec!["start", target]),
        FaultKind::Pause => (vec!["pause", target], vec!["resume", target]),
        FaultKind::Restart => (vec!["stop", target], vec!["start", target]),
        FaultKind::RedisKill => (vec!["kill", "redis"], vec!["start", "redis"]),
        FaultKind::RedisPause => (vec!["pause", "redis"], vec!["resume", "redis"]),
        FaultKind::MongoRestart => (vec!["stop", "mongo"], vec!["start", "mongo"]),
        FaultKind::MongoKill => (vec!["kill", "mongo"], vec!["start", "mongo"]),
        FaultKind::MongoPause => (vec!["pause", "mongo"], vec!["resume", "mongo"]),
        FaultKind::Poison => {
            inject_poison(ctx, fault, record, probed).await;
            return;
        }
    };
    let streams = ctx.streams.all();
    let before = if fault.kind == FaultKind::RedisKill {
        ctx.redis.lengths(&streams).await.ok()
    } else {
        None
    };
    match ctx.dev.run(&down).await {
        Ok(_) => record.applied = true,
        Err(error) => record.error = Some(format!("{error:#}")),
    }
    tokio::time::sleep(fault.hold).await;
    // Undo even when applying seemed to fail: a half-applied fault must not outlive its slot.
    match ctx.dev.run(&up).await {
        Ok(_) => record.recovered = true,
        Err(error) => {
            let message = format!("undo failed: {error:#}");
            record.error = Some(match record.error.take() {
                Some(first) => format!("{first}; {message}"),
                None => message,
            });
        }
    }
    if fault.kind == FaultKind::RedisKill && record.applied {
        *lock(&ctx.last_redis_restart_ms) = Some(ctx.elapsed_ms());
        record.note = match (before, ctx.redis.lengths(&streams).await.ok()) {
            (Some(before), Some(after)) => loss_note(&streams, &before, &after),
            _ => "stream lengths could not be read around the kill".to_owned(),
        };
    }
}

/// "lost ORDERS_STREAM 812→790 (−22), ..." from the lengths before the kill and after the restart.
pub fn loss_note(streams: &[String], before: &[u64], after: &[u64]) -> String {
    let parts: Vec<String> = streams
        .iter()
        .zip(before.iter().zip(after))
        .map(|(name, (b, a))| {
            let lost = b.saturating_sub(*a);
            format!("{name} {b}→{a} (−{lost})")
        })
        .collect();
    let total: u64 = before
        .iter()
        .zip(after)
        .map(|(b, a)| b.saturating_sub(*a))
        .sum();
    format!("entries lost: {total} ({})", parts.join(", "))
}

async fn inject_poison(ctx: &Context, fault: &Fault, record: &mut FaultRecord, probed: &mut bool) {
    let stream = ctx.streams.full(&fault.target);
    let tag = format!("{}-{}", ctx.run_tag, fault.index);
    let mut ids = Vec::new();
    let mut failed = 0;
    for entry in poison::entries_for(&fault.target, &tag) {
        let bytes = entry.fields.iter().map(|(n, v)| n.len() + v.len()).sum();
        let at_ms = ctx.elapsed_ms();
        let result = ctx.redis.xadd(&stream, &entry.fields).await;
        let injected = InjectedPoison {
            stream: stream.clone(),
            variant: entry.variant,
            id: result.as_ref().ok().cloned(),
            error: result.as_ref().err().map(|e| format!("{e:#}")),
            at_ms,
            bytes,
        };
        match &injected.id {
            Some(id) => ids.push(format!("{}={id}", entry.variant)),
            None => failed += 1,
        }
        lock(&ctx.poison).push(injected);
    }
    record.applied = !ids.is_empty();
    record.recovered = true;
    record.note = format!("{} entries on {stream}: {}", ids.len(), ids.join(" "));
    if failed > 0 {
        record.error = Some(format!("{failed} poison entries could not be written"));
    }
    if !*probed {
        *probed = true;
        let answer = match ctx.redis.odd_arity_xadd(&stream).await {
            Ok(Reply::Error(message)) => format!("refused: -{message}"),
            Ok(other) => format!("ACCEPTED (unexpected): {other:?}"),
            Err(error) => format!("no answer: {error:#}"),
        };
        record.note.push_str(&format!(
            "; XADD with an odd number of field items: {answer}"
        ));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_note_counts_what_each_stream_lost() {
        let streams = vec!["A".to_owned(), "B".to_owned()];
        let note = loss_note(&streams, &[10, 5], &[7, 6]);
        assert_eq!(note, "entries lost: 3 (A 10→7 (−3), B 5→6 (−0))");
    }
}
