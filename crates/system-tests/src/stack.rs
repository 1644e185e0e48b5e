//! One whole shop as separate processes: `scripts/dev.sh` in a private state directory, on ports
//! of its own, with private Redis and MongoDB-compatible servers, torn down when dropped.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use shop_streams::{Redis, RedisSettings, StreamNames};
use tokio::process::Command;

/// The services `dev.sh` runs, and their port offsets from the stack's base port.
const SERVICES: [(&str, u16); 6] = [
    ("gateway", 0),
    ("products", 1),
    ("orders", 2),
    ("payments", 3),
    ("order-history", 4),
    ("identity", 5),
];

/// Variables of the caller's environment that would point a stack at shared servers or at
/// another stack's state; each stack sets its own.
const INHERITED_BUT_NOT_WANTED: [&str; 8] = [
    "REDIS_URL",
    "MONGODB_URI",
    "SHOP_DEV_DIR",
    "SHOP_DEV_BASE_PORT",
    "SHOP_DEV_INFRA",
    "SHOP_ADMIN_TOKEN",
    "STREAM_PREFIX",
    "BIND_ADDR",
];

/// Whether this test process already let `dev.sh` build the binaries: once is enough.
static BUILT: AtomicBool = AtomicBool::new(false);

/// A running shop. Dropping it runs `dev.sh down --purge`; after a failed test the state
/// directory (logs included) is kept and its path printed.
#[derive(Debug)]
pub struct Stack {
    root: PathBuf,
    state: PathBuf,
    base_port: u16,
    admin_token: String,
    env: Vec<(String, String)>,
}

impl Stack {
    /// Starts a shop whose services also get `env` (consumer timings, provider latency…).
    pub async fn up(name: &str, env: &[(&str, &str)]) -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()?;
        let state = std::env::temp_dir().join(shop_testkit::unique_name(&format!("shop-{name}")));
        std::fs::create_dir_all(&state)?;
        let mut last_error = None;
        // A free port can be taken between the check and the bind: try another base.
        for _ in 0..3 {
            let mut stack = Self {
                root: root.clone(),
                state: state.clone(),
                base_port: free_port_block()?,
                admin_token: format!("system-{}{}", ulid::Ulid::new(), ulid::Ulid::new()),
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            };
            let build = !BUILT.swap(true, Ordering::SeqCst);
            let args: &[&str] = if build {
                &["up"]
            } else {
                &["up", "--no-build"]
            };
            let started = std::time::Instant::now();
            match stack.dev(args).await {
                Ok(_) => {
                    eprintln!(
                        "stack {name} up in {:.1?} (state in {})",
                        started.elapsed(),
                        state.display()
                    );
                    return Ok(stack);
                }
                Err(error) => {
                    let _ = stack.dev(&["down"]).await;
                    stack.base_port = 0; // nothing left to tear down in Drop
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the stack did not start")))
    }

    /// Runs `scripts/dev.sh ARGS` against this stack; its output, or an error carrying it.
    pub async fn dev(&self, args: &[&str]) -> Result<String> {
        let mut command = Command::new("bash");
        command
            .arg(self.root.join("scripts/dev.sh"))
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null());
        for name in INHERITED_BUT_NOT_WANTED {
            command.env_remove(name);
        }
        command
            .env("SHOP_DEV_DIR", &self.state)
            .env("SHOP_DEV_BASE_PORT", self.base_port.to_string())
            .env("SHOP_DEV_PROFILE", profile())
            .env("SHOP_DEV_INFRA", "private")
            .env("SHOP_ADMIN_TOKEN", &self.admin_token)
            // All traffic comes from one address: the per-client limiter would be the bottleneck.
            .env("RATE_LIMIT_PER_SECOND", "0")
            // These tests count events per order exactly ("one OrderCreated, one PaymentProcessed"),
            // and the reconciler's re-announcement of an order that stays unpaid (payments stopped
            // or killed on a slow machine) is a legitimate second copy: keep it out of their window.
            .env("REANNOUNCE_AFTER_MS", "600000")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let output = command.output().await.context("running scripts/dev.sh")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            bail!(
                "scripts/dev.sh {} failed ({}):\n{text}",
                args.join(" "),
                output.status
            );
        }
        Ok(text)
    }

    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.base_port)
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The pids and ports of the running instances of `service`, by instance number.
    pub fn instances(&self, service: &str) -> Result<HashMap<u32, (u32, u16)>> {
        let mut found = HashMap::new();
        let run = self.state.join("run");
        for entry in
            std::fs::read_dir(&run).with_context(|| format!("reading {}", run.display()))?
        {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(number) = name
                .strip_prefix(&format!("{service}."))
                .and_then(|rest| rest.strip_suffix(".pid"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let read = |suffix: &str| {
                std::fs::read_to_string(run.join(format!("{service}.{number}.{suffix}")))
            };
            let pid = read("pid")?.trim().parse()?;
            let port = read("port")?.trim().parse()?;
            found.insert(number, (pid, port));
        }
        Ok(found)
    }

    /// A client of the stack's private Redis (to read the streams and their groups).
    pub async fn redis(&self) -> Result<Redis> {
        let port = std::fs::read_to_string(self.state.join("infra/redis.port"))?;
        let url = format!("redis://127.0.0.1:{}", port.trim());
        Ok(Redis::connect(RedisSettings::new(url)).await?)
    }

    /// The stream names the services use (no prefix: the stack is theirs alone).
    pub fn streams(&self) -> StreamNames {
        StreamNames::with_prefix("")
    }

    fn print_logs(&self) {
        for (service, _) in SERVICES {
            let logs = self.state.join("logs");
            let Ok(entries) = std::fs::read_dir(&logs) else {
                return;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(&format!("{service}.")) {
                    let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(15).collect();
                    eprintln!("--- last lines of {name}:");
                    for line in tail.into_iter().rev() {
                        eprintln!("    {line}");
                    }
                }
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.base_port == 0 {
            return;
        }
        let failed = std::thread::panicking();
        if failed {
            self.print_logs();
            eprintln!(
                "the stack's state (logs, data) is kept in {}",
                self.state.display()
            );
        }
        let mut command = std::process::Command::new("bash");
        command
            .arg(self.root.join("scripts/dev.sh"))
            .args(if failed {
                &["down"][..]
            } else {
                &["down", "--purge"][..]
            })
            .env("SHOP_DEV_DIR", &self.state)
            .env("SHOP_DEV_BASE_PORT", self.base_port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Err(error) = command.status() {
            eprintln!(
                "could not stop the stack in {}: {error}",
                self.state.display()
            );
        }
    }
}

/// `SHOP_SYSTEM_PROFILE` (default `debug`, the binaries `cargo test` builds anyway; `release`
/// for a run closer to production).
fn profile() -> String {
    std::env::var("SHOP_SYSTEM_PROFILE").unwrap_or_else(|_| "debug".to_owned())
}

/// A base port whose six ports are all free now.
fn free_port_block() -> Result<u16> {
    for _ in 0..50 {
        let base = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if base > 65_000 {
            continue;
        }
        let all_free = (0..6).all(|offset| TcpListener::bind(("127.0.0.1", base + offset)).is_ok());
        if all_free {
            return Ok(base);
        }
    }
    bail!("no block of six free ports found")
}
