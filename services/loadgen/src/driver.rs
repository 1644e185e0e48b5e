//! The timed phase: workers issue operations for the warm-up and then the recorded window, in a
//! closed loop (each worker waits for its answer) or an open loop (operations start on a fixed
//! schedule whatever the answers, so a slow shop cannot slow the offered load down).
//!
//! Coordinated omission: in the open loop, latency counts from the operation's *scheduled* start
//! when it starts late because every worker was busy (the shop held the load generator back, and
//! that wait is part of what a user would see), and from its actual start when its worker was idle
//! and merely woke up a little after the schedule (the timer's granularity, not the shop's doing).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Load;
use crate::stats::Recorder;
use crate::workload::{PlacedOrder, Shopper, Workload};

/// An open-loop operation that starts this much after its schedule counts as late.
const LATE: Duration = Duration::from_millis(1);
/// How often progress is logged during the timed phase.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What the timed phase recorded.
#[derive(Debug, Default)]
pub struct Recorded {
    pub recorder: Recorder,
    /// Orders accepted in the recorded window.
    pub orders: Vec<PlacedOrder>,
    /// Open loop: recorded operations that started more than 1 ms behind schedule.
    pub late_starts: u64,
    pub orders_skipped: u64,
    /// CPU time the load generator itself used during the warm-up and the window (Linux only):
    /// it shares the machine with the shop, so it had better be small.
    pub generator_cpu_s: Option<f64>,
}

impl Recorded {
    fn merge(&mut self, other: Self) {
        self.recorder.merge(&other.recorder);
        self.orders.extend(other.orders);
        self.late_starts += other.late_starts;
        self.orders_skipped += other.orders_skipped;
    }
}

/// When the `i`-th operation of an open loop at `rate` per second is due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub rate: f64,
}

impl Schedule {
    pub fn at(&self, i: u64) -> Instant {
        // f64 keeps a fractional rate exact enough: i / rate to the nanosecond for any real run.
        self.start + Duration::from_secs_f64(i as f64 / self.rate)
    }
}

/// The window of the timed phase: traffic from `start`, recorded from `record_from` to `end`.
#[derive(Debug, Clone, Copy)]
struct Window {
    record_from: Instant,
    end: Instant,
}

/// Runs the warm-up and the recorded window; returns when every worker has finished its last
/// operation.
pub async fn drive(
    workload: Arc<Workload>,
    load: Load,
    warmup: Duration,
    duration: Duration,
    seed: u64,
) -> Recorded {
    let start = Instant::now();
    let window = Window {
        record_from: start + warmup,
        end: start + warmup + duration,
    };
    let completed = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..load.workers())
        .map(|worker| {
            let workload = Arc::clone(&workload);
            let completed = Arc::clone(&completed);
            let next = Arc::clone(&next);
            let shopper = Shopper::new(worker, seed);
            tokio::spawn(async move {
                match load {
                    Load::Closed { .. } => closed(&workload, shopper, window, &completed).await,
                    Load::Open { rate, .. } => {
                        let schedule = Schedule { start, rate };
                        open(&workload, shopper, window, schedule, &next, &completed).await
                    }
                }
            })
        })
        .collect();
    let progress = tokio::spawn(report_progress(Arc::clone(&completed), start, window));
    let cpu_before = process_cpu_s();

    let mut recorded = Recorded::default();
    for worker in workers {
        match worker.await {
            Ok(part) => recorded.merge(part),
            Err(error) => tracing::error!(%error, "a load worker failed"),
        }
    }
    progress.abort();
    recorded.generator_cpu_s = process_cpu_s()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    recorded
}

/// The CPU time of every thread of this process so far: user plus system time from
/// `/proc/self/stat`, in clock ticks of `USER_HZ`, which Linux fixes at 100 for user space.
fn process_cpu_s() -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its `)` start at field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    let (user, system) = (ticks(14)?, ticks(15)?);
    Some((user + system) as f64 / USER_HZ)
}

async fn closed(
    workload: &Workload,
    mut shopper: Shopper,
    window: Window,
    completed: &AtomicU64,
) -> Recorded {
    let mut recorded = Recorded::default();
    loop {
        let started = Instant::now();
        if started >= window.end {
            break;
        }
        let done = workload.perform(&mut shopper).await;
        completed.fetch_add(1, Ordering::Relaxed);
        if started >= window.record_from {
            recorded
                .recorder
                .record(done.endpoint, started.elapsed(), done.outcome);
            recorded.orders.extend(done.order);
        }
    }
    recorded.orders_skipped = shopper.orders_skipped;
    recorded
}

async fn open(
    workload: &Workload,
    mut shopper: Shopper,
    window: Window,
    schedule: Schedule,
    next: &AtomicU64,
    completed: &AtomicU64,
) -> Recorded {
    let mut recorded = Recorded::default();
    loop {
        let due = schedule.at(next.fetch_add(1, Ordering::Relaxed));
        if due >= window.end {
            break;
        }
        let now = Instant::now();
        let measured_from = if now < due {
            tokio::time::sleep_until(due).await;
            Instant::now()
        } else {
            if due >= window.record_from && now - due > LATE {
                recorded.late_starts += 1;
            }
            due
        };
        let done = workload.perform(&mut shopper).await;
        completed.fetch_add(1, Ordering::Relaxed);
        if due >= window.record_from {
            recorded
                .recorder
                .record(done.endpoint, measured_from.elapsed(), done.outcome);
            recorded.orders.extend(done.order);
        }
    }
    recorded.orders_skipped = shopper.orders_skipped;
    recorded
}

async fn report_progress(completed: Arc<AtomicU64>, start: Instant, window: Window) {
    let mut ticks = tokio::time::interval_at(start + PROGRESS_EVERY, PROGRESS_EVERY);
    loop {
        let now = ticks.tick().await;
        if now >= window.end {
            return;
        }
        let phase = if now < window.record_from {
            "warm-up"
        } else {
            "recording"
        };
        tracing::info!(
            elapsed_s = (now - start).as_secs(),
            operations = completed.load(Ordering::Relaxed),
            "{phase}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_due_evenly_spaced_at_the_rate() {
        let start = Instant::now();
        let schedule = Schedule { start, rate: 200.0 };

        assert_eq!(schedule.at(0), start);
        assert_eq!(schedule.at(1) - start, Duration::from_millis(5));
        assert_eq!(schedule.at(200) - start, Duration::from_secs(1));
    }

    #[test]
    fn a_window_holds_rate_times_duration_operations() {
        let start = Instant::now();
        let schedule = Schedule { start, rate: 33.0 };
        let end = start + Duration::from_secs(3);

        let due = (0..).take_while(|i| schedule.at(*i) < end).count();

        assert_eq!(due, 99);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_cpu_time_is_read_and_grows() {
        let before = process_cpu_s().unwrap_or_else(|| panic!("/proc/self/stat unreadable"));
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        let after = process_cpu_s().unwrap_or_else(|| panic!("/proc/self/stat unreadable"));

        assert!(after >= before, "{before} → {after}");
    }

    #[test]
    fn a_fractional_rate_is_kept() {
        let start = Instant::now();
        let schedule = Schedule { start, rate: 0.5 };

        assert_eq!(schedule.at(3) - start, Duration::from_secs(6));
    }
}
