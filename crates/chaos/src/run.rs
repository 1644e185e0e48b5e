//! One chaos run from start to verdict: log the users in and read the catalog, run the traffic and
//! the fault schedule side by side, quiesce, read the world, check every invariant, report.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, Result};
use shop_streams::StreamNames;
use tokio::time::Instant;

use crate::dev::Dev;
use crate::faults::{self, Streams};
use crate::invariants::{Verdict, check_all};
use crate::quiesce::{QuiesceConfig, quiesce};
use crate::redis::RedisView;
use crate::report::{Report, Totals, timeline};
use crate::traffic::{self, TrafficConfig, TrafficLog};
use crate::{read, resp, schedule};

/// Everything a run is given.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub seed: u64,
    pub duration: Duration,
    pub clients: usize,
    /// Weights of the patient, impatient and browsing clients.
    pub mix: [u64; 3],
    /// False for a baseline run of traffic only.
    pub faults: bool,
    pub dev: Dev,
    pub stream_prefix: String,
    pub quiesce: QuiesceConfig,
    pub report_dir: PathBuf,
    /// The command line that reproduces this run, for the report.
    pub reproduce: String,
    /// Minimums the run itself must reach (CI): faults applied, kinds applied, orders created.
    pub require: Option<Requirements>,
}

/// What makes a run count: without these a "pass" might only mean nothing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    pub faults: usize,
    pub kinds: usize,
    pub orders: u64,
}

/// Runs the whole thing; the report (also written to `report_dir`).
pub async fn run(config: RunConfig) -> Result<Report> {
    let wall_start = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let plan = if config.faults {
        schedule::generate(config.seed, config.duration)
    } else {
        Vec::new()
    };
    eprintln!(
        "chaos: seed {} — {} faults planned:",
        config.seed,
        plan.len()
    );
    for fault in &plan {
        eprintln!("  {fault}");
    }

    let (redis_url, mongo_uri) = config.dev.urls()?;
    let redis = RedisView::new(resp::address_of(&redis_url)?);
    let streams = Streams {
        names: StreamNames::with_prefix(&config.stream_prefix),
    };
    let gateway = config.dev.gateway_url();
    let http = traffic::http_client(config.clients * 2)?;
    let shoppers = traffic::register_users(&http, &gateway, config.seed, config.clients)
        .await
        .context("setting up the users")?;
    let catalog = traffic::read_catalog(&http, &gateway).await?;
    eprintln!(
        "chaos: {} users logged in, {} products ({} scarce); traffic for {:?}",
        shoppers.len(),
        catalog.products.len(),
        catalog.scarce.len(),
        config.duration
    );

    let start = Instant::now();
    let poison = Arc::new(Mutex::new(Vec::new()));
    let context = faults::Context {
        dev: config.dev.clone(),
        redis: redis.clone(),
        streams: streams.clone(),
        start,
        poison: poison.clone(),
        last_redis_restart_ms: Arc::new(Mutex::new(None)),
        run_tag: format!("s{}", config.seed),
    };
    let traffic_config = TrafficConfig {
        gateway: gateway.clone(),
        clients: config.clients,
        mix: config.mix,
        duration: config.duration,
        seed: config.seed,
    };
    let (log, records) = tokio::join!(
        traffic::run(http, traffic_config, catalog, shoppers, start),
        faults::run(context, plan, start + config.duration),
    );
    let traffic_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    eprintln!(
        "chaos: traffic done: {} order attempts; quiescing (window {:?})…",
        log.attempts.len(),
        config.quiesce.window
    );

    let mongo = read::mongo(&mongo_uri).await?;
    let all_streams = streams.all();
    let settle = quiesce(&config.dev, &mongo, &redis, &all_streams, config.quiesce).await;
    let poison = poison
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();

    let (world, error) = match read::world(&mongo, &redis, &all_streams, &poison).await {
        Ok(world) => (Some(world), None),
        Err(error) => (
            None,
            Some(format!("reading the databases and streams: {error:#}")),
        ),
    };
    let mut verdicts = world
        .as_ref()
        .map(|w| check_all(w, &log, &poison))
        .unwrap_or_default();
    let totals = Totals::of(&log, world.as_ref());
    let timeline = timeline(&log, traffic_ms);
    let mut report = Report {
        seed: config.seed,
        reproduce: config.reproduce.clone(),
        started_at,
        traffic_ms,
        total_ms: 0,
        faults: records,
        totals,
        timeline,
        settle,
        streams: world
            .as_ref()
            .map(|w| w.streams.clone())
            .unwrap_or_default(),
        poison,
        verdicts: Vec::new(),
        passed: false,
        error,
    };
    if let Some(require) = config.require {
        verdicts.push(adequacy(&report, require));
    }
    report.passed = report.error.is_none() && verdicts.iter().all(Verdict::holds);
    report.verdicts = verdicts;
    report.total_ms = u64::try_from(wall_start.elapsed().as_millis()).unwrap_or(u64::MAX);
    write(&config, &report, &log)?;
    Ok(report)
}

/// The run's own bar: enough faults, of enough kinds, and enough orders created.
fn adequacy(report: &Report, require: Requirements) -> Verdict {
    let faults = report.applied_faults();
    let kinds = report.applied_kinds();
    let orders = report.totals.created_orders;
    let mut examples = Vec::new();
    if faults < require.faults {
        examples.push(format!(
            "{faults} faults applied, {} required",
            require.faults
        ));
    }
    if kinds < require.kinds {
        examples.push(format!("{kinds} kinds applied, {} required", require.kinds));
    }
    if orders < require.orders {
        examples.push(format!(
            "{orders} orders created, {} required",
            require.orders
        ));
    }
    Verdict {
        name: "the run itself: faults, kinds, orders reached",
        checked: 3,
        violations: examples.len(),
        examples,
        note: format!("{faults} faults, {kinds} kinds, {orders} orders"),
    }
}

/// Writes `chaos-<seed>.md` and `.json` into the report directory, `latest.md`, and every order
/// attempt as one JSON line each in `chaos-<seed>-attempts.jsonl`.
fn write(config: &RunConfig, report: &Report, log: &TrafficLog) -> Result<()> {
    std::fs::create_dir_all(&config.report_dir)
        .with_context(|| format!("creating {}", config.report_dir.display()))?;
    let markdown = report.markdown();
    let base = config.report_dir.join(format!("chaos-{}", config.seed));
    std::fs::write(base.with_extension("md"), &markdown)?;
    std::fs::write(
        base.with_extension("json"),
        serde_json::to_vec_pretty(report)?,
    )?;
    std::fs::write(config.report_dir.join("latest.md"), &markdown)?;
    let mut lines = Vec::new();
    for attempt in &log.attempts {
        serde_json::to_writer(&mut lines, attempt)?;
        lines.push(b'\n');
    }
    std::fs::write(
        config
            .report_dir
            .join(format!("chaos-{}-attempts.jsonl", config.seed)),
        lines,
    )?;
    eprintln!("chaos: report written to {}.md and .json", base.display());
    Ok(())
}
