//! The stack under test, as `scripts/dev.sh` runs it: its state directory, ports and the URLs it
//! settled, and the `dev.sh` verbs the faults are made of.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// The longest a single `dev.sh` call may take: a start waits up to 90 s for readiness, a stop
/// up to 20 s for a drain.
const DEV_TIMEOUT: Duration = Duration::from_secs(150);

/// One stack started by `dev.sh` in its own state directory.
#[derive(Debug, Clone)]
pub struct Dev {
    script: PathBuf,
    state: PathBuf,
    base_port: u16,
}

impl Dev {
    pub fn new(script: PathBuf, state: PathBuf, base_port: u16) -> Result<Self> {
        if !script.is_file() {
            bail!("{} is not a file", script.display());
        }
        Ok(Self {
            script,
            state,
            base_port,
        })
    }

    pub fn state(&self) -> &Path {
        &self.state
    }

    /// The gateway: always on 127.0.0.1, at the stack's base port.
    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.base_port)
    }

    /// `REDIS_URL` and `MONGODB_URI` as `dev.sh up` recorded them in `<state>/env`; both must point
    /// at 127.0.0.1 (the harness injects faults into nothing it did not start).
    pub fn urls(&self) -> Result<(String, String)> {
        let path = self.state.join("env");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (is the stack up?)", path.display()))?;
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .map(|v| v.trim().trim_matches(['\'', '"']).to_owned())
                .with_context(|| format!("{} has no {name}", path.display()))
        };
        let (redis, mongo) = (value("REDIS_URL")?, value("MONGODB_URI")?);
        for url in [&redis, &mongo] {
            let host = url
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split([':', '/']).next())
                .unwrap_or_default();
            if host != "127.0.0.1" {
                bail!("{url} is not on 127.0.0.1: the chaos run needs a private stack");
            }
        }
        Ok((redis, mongo))
    }

    /// Runs `dev.sh ARGS` against this stack; its combined output, or an error carrying it.
    pub async fn run(&self, args: &[&str]) -> Result<String> {
        let mut command = Command::new("bash");
        command
            .arg(&self.script)
            .args(args)
            .env("SHOP_DEV_DIR", &self.state)
            .env("SHOP_DEV_BASE_PORT", self.base_port.to_string())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(DEV_TIMEOUT, command.output())
            .await
            .with_context(|| format!("dev.sh {} took over {DEV_TIMEOUT:?}", args.join(" ")))?
            .context("running scripts/dev.sh")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            bail!(
                "dev.sh {} failed ({}): {}",
                args.join(" "),
                output.status,
                last_lines(&text, 4)
            );
        }
        Ok(text)
    }
}

/// The last `n` non-empty lines of `text`, joined by " | " (for one-line notes).
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\n\nb\nc\n", 2), "b | c");
        assert_eq!(last_lines("", 2), "");
    }
}
