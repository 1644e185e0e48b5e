//! A log writer that collects formatted lines in memory and writes them to stdout in batches, from a
//! thread of its own, a few times a second.
//!
//! Why not one `write` per line, or a channel to a writer thread: at thousands of requests a second
//! the first is a system call per request on the request's own thread, and the second wakes the
//! writer thread for nearly every line; either cost as much CPU as the rest of serving a cached
//! read. Appending to a shared buffer costs a short lock and a copy, and the batch is written with
//! one system call per flush.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How often the buffer is written out.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A buffer this large is written out by the thread that filled it, at once: memory stays bounded
/// and a burst of logging slows its writers down instead of growing without end.
const MAX_BUFFERED: usize = 1 << 20;

#[derive(Debug, Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Wakes the flusher early, to stop.
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A poisoned buffer still holds whole lines (each is appended in one call): keep logging.
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes everything buffered and writes it to `out`. The buffer's lock is held only to take
    /// the bytes, never while writing: a slow stdout (a full pipe) must not stall every thread
    /// that logs. Batches stay in order because every caller holds `out` (stdout's own lock)
    /// before taking: whoever takes first also writes first.
    fn flush_into(&self, out: &mut impl Write) {
        let mut bytes = std::mem::take(&mut self.lock().bytes);
        if bytes.is_empty() {
            return;
        }
        // Nowhere to report a failed write of the log itself; the next batch tries again.
        let _ = out.write_all(&bytes).and_then(|()| out.flush());
        // Give the allocation back, so a steady flow of lines does not allocate per batch.
        bytes.clear();
        let mut buffer = self.lock();
        if buffer.bytes.is_empty() {
            buffer.bytes = bytes;
        }
    }
}

/// The writer to hand to `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Debug, Clone)]
pub(crate) struct BatchedStdout {
    shared: Arc<Shared>,
}

/// Stops the flusher thread and writes out what is left when dropped.
#[derive(Debug)]
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer and the flusher that empties it.
pub(crate) fn stdout() -> (BatchedStdout, Flusher) {
    let shared = Arc::new(Shared::default());
    let flusher_shared = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("log-flusher".to_owned())
        .spawn(move || run_flusher(&flusher_shared))
        .ok();
    (
        BatchedStdout {
            shared: Arc::clone(&shared),
        },
        Flusher { shared, thread },
    )
}

fn run_flusher(shared: &Shared) {
    loop {
        let stopping = {
            let buffer = shared.lock();
            let (buffer, _) = shared
                .wake
                .wait_timeout_while(buffer, FLUSH_EVERY, |buffer| !buffer.stopping)
                .unwrap_or_else(PoisonError::into_inner);
            buffer.stopping
        };
        // Stdout is locked per batch, never held between batches: another writer to stdout (a
        // second flusher, a panic message) must not wait on this thread's sleep.
        shared.flush_into(&mut io::stdout().lock());
        if stopping {
            return;
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        match self.thread.take() {
            Some(thread) => {
                let _ = thread.join();
            }
            // The thread could not be started: lines were written by their writers when the
            // buffer filled; write the rest here.
            None => self.shared.flush_into(&mut io::stdout().lock()),
        }
    }
}

impl Write for BatchedStdout {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let full = {
            let mut buffer = self.shared.lock();
            buffer.bytes.extend_from_slice(bytes);
            buffer.bytes.len() >= MAX_BUFFERED
        };
        if full {
            self.shared.flush_into(&mut io::stdout().lock());
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // the flusher's job, on its schedule
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that logs while it is being written to, as a thread would while stdout is slow.
    struct LoggingOut {
        writer: BatchedStdout,
        written: Vec<u8>,
    }

    impl Write for LoggingOut {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            // With the buffer's lock held during the write, this would deadlock.
            self.writer.write_all(b"during\n")?;
            self.written.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writers_are_not_blocked_while_a_batch_is_written() {
        let shared = Arc::new(Shared::default());
        let mut writer = BatchedStdout {
            shared: Arc::clone(&shared),
        };
        writer.write_all(b"before\n").unwrap_or_default();
        let mut out = LoggingOut {
            writer: writer.clone(),
            written: Vec::new(),
        };

        shared.flush_into(&mut out);

        assert_eq!(out.written, b"before\n");
        let mut rest = Vec::new();
        shared.flush_into(&mut rest);
        assert_eq!(
            rest, b"during\n",
            "the line logged meanwhile is kept for the next batch"
        );
    }

    #[test]
    fn lines_are_kept_whole_and_in_order_until_flushed() {
        let shared = Arc::new(Shared::default());
        let mut writer = BatchedStdout {
            shared: Arc::clone(&shared),
        };
        writer.write_all(b"one\n").unwrap_or_default();
        writer.write_all(b"two\n").unwrap_or_default();

        let mut out = Vec::new();
        shared.flush_into(&mut out);
        shared.flush_into(&mut out);

        assert_eq!(out, b"one\ntwo\n", "each line once, in order");
        assert!(shared.lock().bytes.is_empty());
    }

    #[test]
    fn dropping_the_flusher_stops_its_thread() {
        let (mut writer, flusher) = stdout();
        writer.write_all(b"").unwrap_or_default();

        drop(flusher); // joins the thread: a hang here fails the test by timeout

        assert!(writer.shared.lock().stopping);
    }
}
