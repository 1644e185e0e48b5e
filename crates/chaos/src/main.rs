//! `shop-chaos`: one chaos run against a running dev.sh stack; exits 0 when every invariant holds,
//! 1 when one is broken, 2 when the run itself could not be done.

use std::process::ExitCode;

use clap::Parser;
use shop_chaos::args::Args;
use shop_chaos::dev::Dev;
use shop_chaos::quiesce::{QuiesceConfig, window_from_env};
use shop_chaos::run::{Requirements, RunConfig, run};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(random_seed);
    let reproduce = format!(
        "scripts/chaos.sh --duration {}s --seed {seed}",
        args.duration.as_secs()
    );
    eprintln!("chaos: seed {seed} (reproduce: {reproduce})");
    let dev = match Dev::new(
        args.dev_script.clone(),
        args.dev_dir.clone(),
        args.base_port,
    ) {
        Ok(dev) => dev,
        Err(error) => {
            eprintln!("chaos: {error:#}");
            return ExitCode::from(2);
        }
    };
    let require = (args.require_faults.is_some()
        || args.require_kinds.is_some()
        || args.require_orders.is_some())
    .then(|| Requirements {
        faults: args.require_faults.unwrap_or(0),
        kinds: args.require_kinds.unwrap_or(0),
        orders: args.require_orders.unwrap_or(0),
    });
    let config = RunConfig {
        seed,
        duration: args.duration,
        clients: args.clients.max(1),
        mix: args.mix,
        faults: !args.no_faults,
        dev,
        stream_prefix: args.stream_prefix.clone(),
        quiesce: QuiesceConfig {
            window: args
                .settle_window
                .unwrap_or_else(|| window_from_env(|name| std::env::var(name).ok())),
            timeout: args.settle_timeout,
            poll: std::time::Duration::from_secs(2),
        },
        report_dir: args.report_dir.clone(),
        reproduce,
        require,
    };
    match run(config).await {
        Ok(report) => {
            println!("{}", report.markdown());
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("chaos: the run could not be done: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// A seed from the clock, when none is given (printed, so the run can be repeated).
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Keep it short enough to type.
    u64::try_from(nanos % 1_000_000_000).unwrap_or(0) ^ u64::from(std::process::id())
}
