//! A `redis-server` of the test's own, on a free port, that the test can pause (`SIGSTOP`: its
//! sockets stay open but nothing answers) and resume. Killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use shop_streams::{Redis, RedisSettings};

pub struct PrivateRedis {
    child: Child,
    pub url: String,
}

impl PrivateRedis {
    /// # Panics
    ///
    /// If `redis-server` is not installed (`scripts/test.sh` installs it) or does not come up.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let server = Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not listen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    /// Short timeouts all round, so a paused server is noticed quickly.
    pub async fn connect(&self) -> Redis {
        let mut settings = RedisSettings::new(&self.url);
        settings.command_timeout = Duration::from_secs(1);
        settings.connect_timeout = Duration::from_secs(1);
        settings.unresponsive_timeout = Duration::from_secs(1);
        settings.keepalive = Duration::from_secs(1);
        Redis::connect(settings)
            .await
            .expect("the private Redis is reachable")
    }

    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // A stopped process still dies of SIGKILL; resuming first just lets it go quietly.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
