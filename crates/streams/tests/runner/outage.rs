//! A Redis that stops answering without closing its sockets (the process is paused with
//! `SIGSTOP`): commands fail instead of hanging, shutdown stays bounded, and after `SIGCONT` a
//! running consumer carries on by itself. Each test pauses a private server of its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::prelude::StreamsInterface;
use fred::types::Value;

use crate::helpers::{Count, TestStream, eventually};
use crate::private_redis::PrivateRedis;

/// Generous: every bound below is a few one-second timeouts, and the machine may be busy.
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test]
async fn commands_to_a_paused_redis_fail_within_their_timeout_on_the_pool_and_the_blocking_client()
{
    let server = PrivateRedis::start().await;
    let redis = server.connect().await;
    let blocking = redis
        .blocking_client(Duration::from_millis(500))
        .await
        .expect("a blocking client");
    redis.ping().await.expect("a running server answers");

    server.pause();
    let ping = tokio::time::timeout(BOUND, redis.ping()).await;
    let read = tokio::time::timeout(
        BOUND,
        blocking.xreadgroup::<Value, _, _, _, _>("g", "c", Some(1), Some(500), false, "S", ">"),
    )
    .await;
    server.resume();

    assert!(
        matches!(ping, Ok(Err(_))),
        "the pool's PING failed: {ping:?}"
    );
    assert!(
        matches!(read, Ok(Err(_))),
        "the blocking read failed: {read:?}"
    );
    eventually(BOUND, "the pool answers again", || async {
        redis.ping().await.is_ok()
    })
    .await;
}

#[tokio::test]
async fn stopping_a_consumer_while_redis_is_paused_returns_within_a_bound_after_its_handlers_finish()
 {
    let server = PrivateRedis::start().await;
    let t = TestStream::on(server.connect().await);
    let mut config = t.config();
    config.handler_timeout = Duration::from_secs(2);
    config.claim_idle = Duration::from_secs(3);
    let (started, finished) = (Count::default(), Count::default());
    let (s, f) = (started.clone(), finished.clone());
    let runner = t.spawn(config, move |d| {
        let (s, f) = (s.clone(), f.clone());
        async move {
            if d.event.0 == 99 {
                s.bump();
                tokio::time::sleep(Duration::from_secs(1)).await;
                f.bump();
            }
            Ok(())
        }
    });
    t.publish([1, 2]).await;
    eventually(BOUND, "the consumer runs", || async {
        runner.processed() == 2
    })
    .await;
    t.publish([99]).await;
    eventually(BOUND, "a slow handler is running", || async {
        started.get() == 1
    })
    .await;

    server.pause();
    runner.shutdown.cancel();
    let stopped = tokio::time::timeout(BOUND, runner.task).await;
    server.resume();

    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "the runner stopped by itself: {stopped:?}"
    );
    assert_eq!(finished.get(), 1, "the running handler was let finish");
}

#[tokio::test]
async fn a_running_consumer_carries_on_by_itself_after_a_paused_redis_resumes() {
    let server = PrivateRedis::start().await;
    let t = TestStream::on(server.connect().await);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let runner = t.spawn(t.config(), move |d| {
        record.lock().expect("lock").push(d.event.0);
        async { Ok(()) }
    });
    t.publish([1]).await;
    eventually(BOUND, "the consumer runs", || async {
        runner.processed() == 1
    })
    .await;

    server.pause();
    // Long enough for reads, claims and the pool's commands to time out, several times.
    tokio::time::sleep(Duration::from_secs(4)).await;
    server.resume();
    eventually(BOUND, "new entries can be published", || async {
        t.publisher
            .publish(&t.stream, &crate::helpers::Numbered(2))
            .await
            .is_ok()
    })
    .await;

    eventually(BOUND, "the new entry is processed", || async {
        seen.lock().expect("lock").contains(&2)
    })
    .await;
    runner.stop().await;
}
