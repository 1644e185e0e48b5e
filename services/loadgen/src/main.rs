//! The `loadgen` binary: parse the flags, run, print the report (and write it as JSON), and exit
//! 0 when the run was made, 1 when it could not be (setup failed), 3 above `--max-error-rate`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use shop_loadgen::args::Args;

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let config = match args.to_config() {
        Ok(config) => config,
        Err(error) => Args::command()
            .error(clap::error::ErrorKind::ValueValidation, error)
            .exit(),
    };
    // Progress goes to stderr; stdout is the report alone.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the Tokio runtime")?;
    let report = match runtime.block_on(shop_loadgen::run(&config)) {
        Ok(report) => report,
        Err(error) => {
            // The cause chain on one line; a setup failure needs no backtrace.
            eprintln!(
                "loadgen: the run could not be made: {:#}",
                anyhow::Error::new(error)
            );
            return Ok(ExitCode::FAILURE);
        }
    };

    print!("{report}");
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).context("serialising the report")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    if let Some(max) = args.max_error_rate
        && report.error_rate_pct > max
    {
        eprintln!(
            "loadgen: error rate {:.2}% is above --max-error-rate {max}%",
            report.error_rate_pct
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
