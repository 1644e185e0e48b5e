//! Throughput and latency of the transport against a real Redis (`REDIS_URL`; `scripts/bench-streams.sh`
//! starts a private one). Prints one report: publish rates, the runner against a hand-written
//! `XREADGROUP` + `XACK` loop on the same data, and XADD→handler latency at a fixed rate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use fred::prelude::{KeysInterface, StreamsInterface};
use fred::types::Value;
use shop_streams::{
    Consumer, ConsumerConfig, DecodeError, Event, Fields, Publisher, Redis, RedisSettings,
    RunnerMetrics,
};
use tokio_util::sync::CancellationToken;

/// A small event like the shop's own, with the time it was sent.
struct Tick {
    n: u64,
    sent_us: u64,
}

impl Event for Tick {
    const STREAM: &'static str = "BENCH_STREAM";
    const TYPE: &'static str = "Tick";

    fn encode(&self, fields: &mut Fields) {
        fields.push("n", self.n.to_string());
        fields.push("sentUs", self.sent_us.to_string());
        fields.push("orderId", "01JDXKQ8ZJ4M2V6W8Y0A1B2C3D");
        fields.push("userId", "01JDXKQ8ZJ4M2V6W8Y0A1B2C3E");
    }

    fn decode(fields: &Fields) -> Result<Self, DecodeError> {
        Ok(Self {
            n: fields.parse("n")?,
            sent_us: fields.parse("sentUs")?,
        })
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

const SINGLE: u64 = 20_000;
const BULK: u64 = 200_000;
const ROUNDS: usize = 3;
const LATENCY_RATE: u64 = 1_000;
const LATENCY_SECONDS: u64 = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this target without it, as a
    // smoke test of the build. Timings belong to benchmarks, never to the test suite.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("shop-streams benchmark: skipped (run `cargo bench` or scripts/bench-streams.sh)");
        return Ok(());
    }
    let url =
        std::env::var("REDIS_URL").context("REDIS_URL is not set: run scripts/bench-streams.sh")?;
    let redis = Redis::connect(RedisSettings::new(url)).await?;
    let publisher = Publisher::new(redis.clone(), 10_000_000);
    let prefix = format!("bench:{}", ulid::Ulid::new());
    let stream = |name: &str| format!("{prefix}:{name}");
    let ticks = |count: u64| {
        (0..count)
            .map(|n| Tick { n, sent_us: 0 })
            .collect::<Vec<_>>()
    };

    println!(
        "shop-streams benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let events = ticks(SINGLE);
    let started = Instant::now();
    for event in &events {
        publisher.publish(&stream("single"), event).await?;
    }
    let single = rate(SINGLE, started.elapsed());
    println!("publish, one at a time:      {single:>10.0} entries/s  ({SINGLE} entries)");

    // Throughput varies run to run on a small machine: interleave the rounds and report medians.
    let events = ticks(BULK);
    let (mut pipelined, mut raw, mut tuned, mut defaults) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let [s_raw, s_tuned, s_defaults] =
            ["raw", "tuned", "defaults"].map(|s| stream(&format!("{s}{round}")));
        let started = Instant::now();
        publisher.publish_batch(&s_raw, &events).await?;
        pipelined.push(rate(BULK, started.elapsed()));
        publisher.publish_batch(&s_tuned, &events).await?;
        publisher.publish_batch(&s_defaults, &events).await?;

        raw.push(raw_loop(&redis, &s_raw, 500).await?);
        tuned.push(
            run_to_end(&redis, &s_tuned, |c| {
                c.batch_size = 500;
                c.concurrency = 500;
            })
            .await?,
        );
        defaults.push(run_to_end(&redis, &s_defaults, |_| {}).await?);
        let _: u64 = redis.pool().del(vec![s_raw, s_tuned, s_defaults]).await?;
    }
    drop(events);
    let ratio = |runner: &[f64]| {
        median(
            &runner
                .iter()
                .zip(&raw)
                .map(|(r, b)| 100.0 * r / b)
                .collect::<Vec<_>>(),
        )
    };
    println!(
        "publish, pipelined:          {}  ({BULK} entries x {ROUNDS})",
        summary(&pipelined)
    );
    println!(
        "consume, raw XREADGROUP+XACK:{}  (COUNT 500)",
        summary(&raw)
    );
    println!(
        "consume, runner:             {}  (batch 500, concurrency 500) = {:.0}% of raw",
        summary(&tuned),
        ratio(&tuned)
    );
    println!(
        "consume, runner (defaults):  {}  (batch 64, concurrency 32) = {:.0}% of raw",
        summary(&defaults),
        ratio(&defaults)
    );

    let (p50, p99, max) = latency(&redis, &publisher, &stream("latency")).await?;
    println!(
        "latency XADD->handler at {LATENCY_RATE}/s for {LATENCY_SECONDS}s: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms"
    );

    let keys: Vec<String> = ["single", "latency"].iter().map(|s| stream(s)).collect();
    let _: u64 = redis.pool().del(keys).await?;
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// `median entries/s [min - max]`.
fn summary(rates: &[f64]) -> String {
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    format!("{:>10.0} entries/s [{min:.0} - {max:.0}]", median(rates))
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// An `XREADGROUP` entry as the raw loop reads it: id and field pairs.
type RawEntry = (String, Vec<(String, String)>);

/// The baseline: read a batch, ack the batch, on one dedicated connection, nothing else.
async fn raw_loop(redis: &Redis, stream: &str, count: u64) -> anyhow::Result<f64> {
    let _: Value = redis
        .pool()
        .xgroup_create(stream, "raw", "0", false)
        .await?;
    let client = redis.dedicated().await?;
    let started = Instant::now();
    let mut done = 0;
    while done < BULK {
        let reply: Vec<(String, Vec<RawEntry>)> = client
            .xreadgroup("raw", "raw-1", Some(count), Some(1_000), false, stream, ">")
            .await?;
        let ids: Vec<String> = reply
            .into_iter()
            .flat_map(|(_, entries)| entries.into_iter().map(|(id, _)| id))
            .collect();
        done += ids.len() as u64;
        let _: u64 = client.xack(stream, "raw", ids).await?;
    }
    Ok(rate(BULK, started.elapsed()))
}

/// The runner with a no-op handler, from the first entry to the last acknowledgement.
async fn run_to_end(
    redis: &Redis,
    stream: &str,
    tune: impl FnOnce(&mut ConsumerConfig),
) -> anyhow::Result<f64> {
    let mut config = ConsumerConfig::new(stream, "runner");
    tune(&mut config);
    let metrics = RunnerMetrics::default();
    let shutdown = CancellationToken::new();
    let consumer = Consumer::<Tick>::new(redis.clone(), config, metrics.clone())?;
    let started = Instant::now();
    let task = tokio::spawn(consumer.run(|_| async { Ok(()) }, shutdown.clone()));
    while metrics.processed.get() < BULK {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Acks are batched behind the handlers: the run ends when the group has nothing pending.
    loop {
        let summary: Value = redis.pool().xpending(stream, "runner", ()).await?;
        if matches!(&summary, Value::Array(parts) if parts.first().and_then(Value::as_u64) == Some(0))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await??;
    Ok(rate(BULK, elapsed))
}

/// Publishes at a fixed rate and measures, in the handler, how long each entry took to arrive.
async fn latency(
    redis: &Redis,
    publisher: &Publisher,
    stream: &str,
) -> anyhow::Result<(f64, f64, f64)> {
    let samples = Arc::new(Mutex::new(Vec::with_capacity(
        (LATENCY_RATE * LATENCY_SECONDS) as usize,
    )));
    let sink = samples.clone();
    let shutdown = CancellationToken::new();
    let mut config = ConsumerConfig::new(stream, "latency");
    config.start_from = shop_streams::StartFrom::End;
    let consumer = Consumer::<Tick>::new(redis.clone(), config, RunnerMetrics::default())?;
    let task = tokio::spawn(consumer.run(
        move |d| {
            let sink = sink.clone();
            async move {
                let micros = now_us().saturating_sub(d.event.sent_us);
                sink.lock().map_err(|_| "poisoned")?.push(micros);
                Ok(())
            }
        },
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / LATENCY_RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = LATENCY_RATE * LATENCY_SECONDS;
    for n in 0..total {
        ticker.tick().await;
        publisher
            .publish(
                stream,
                &Tick {
                    n,
                    sent_us: now_us(),
                },
            )
            .await?;
    }
    while samples.lock().map(|s| s.len() as u64).unwrap_or(total) < total {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shutdown.cancel();
    task.await??;

    let mut all = samples.lock().map(|s| s.clone()).unwrap_or_default();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize] as f64 / 1_000.0;
    Ok((at(0.50), at(0.99), at(1.0)))
}
