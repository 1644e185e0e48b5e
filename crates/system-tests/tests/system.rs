//! The system tests: the six service binaries as separate processes (`scripts/dev.sh`), each test
//! with a whole shop of its own, driven through the gateway while payments is stopped, killed or
//! scaled out and while Redis restarts. What counts is what Redis recorded: one `OrderCreated`
//! and one `PaymentProcessed` per order, no more, no fewer.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fred::interfaces::StreamsInterface;
use shop_streams::Redis;
use shop_system_tests::ledger::{assert_once_each, consumers};
use shop_system_tests::{Gateway, Shopper, Stack};
use shop_testkit::eventually_within;
use tokio::sync::Mutex;

/// One shop at a time: each runs six processes and two servers on a 2-core CI machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// How long the tests wait for a backlog to drain or a takeover to happen.
const PATIENCE: Duration = Duration::from_secs(60);

/// Consumer timings that let a test see a dead consumer's entries taken over in seconds, not the
/// production 30 s (the handler timeout must stay below the claim idle time).
const FAST_TAKEOVER: [(&str, &str); 3] = [
    ("CONSUMER_CLAIM_IDLE_MS", "2000"),
    ("CONSUMER_CLAIM_INTERVAL_MS", "500"),
    ("CONSUMER_HANDLER_TIMEOUT_MS", "1500"),
];

/// A shop with one logged-in shopper and the products to order.
struct Shop {
    stack: Stack,
    gateway: Gateway,
    shopper: Shopper,
    products: Vec<String>,
    orders_stream: String,
    payments_stream: String,
}

impl Shop {
    async fn start(name: &str, env: &[(&str, &str)]) -> Result<Self> {
        let stack = Stack::up(name, env).await?;
        let gateway = Gateway::new(stack.gateway_url(), stack.admin_token())?;
        let shopper = gateway.register_and_login(name).await?;
        let products = gateway.products(20).await?;
        let streams = stack.streams();
        Ok(Self {
            stack,
            gateway,
            shopper,
            products,
            orders_stream: streams.orders,
            payments_stream: streams.payments,
        })
    }

    /// Places orders `range` in a background task, as a burst of concurrent clients.
    fn burst(
        &self,
        run: &str,
        range: std::ops::Range<usize>,
        concurrency: usize,
    ) -> tokio::task::JoinHandle<Result<Vec<String>>> {
        let (gateway, shopper, products) = (
            self.gateway.clone(),
            self.shopper.clone(),
            self.products.clone(),
        );
        let run = run.to_owned();
        tokio::spawn(async move {
            gateway
                .place_orders(&shopper, &products, &run, range, concurrency)
                .await
        })
    }

    /// Waits for every order to settle, then checks each was paid, and that Redis holds exactly
    /// one `OrderCreated` and one `PaymentProcessed` for each, and that the backlog is gone.
    async fn assert_all_paid_once(&self, order_ids: &[String]) -> Result<()> {
        let statuses = self.gateway.wait_settled(&self.shopper, order_ids).await?;
        let not_paid: Vec<_> = order_ids
            .iter()
            .filter(|id| statuses.get(*id).map(String::as_str) != Some("paid"))
            .collect();
        ensure!(not_paid.is_empty(), "orders not paid: {not_paid:?}");
        ensure!(
            statuses.len() == order_ids.len(),
            "the shopper has {} orders, {} were placed",
            statuses.len(),
            order_ids.len()
        );
        let redis = self.stack.redis().await?;
        assert_once_each(&redis, &self.orders_stream, order_ids).await?;
        assert_once_each(&redis, &self.payments_stream, order_ids).await?;
        let gateway = &self.gateway;
        let stream = &self.orders_stream;
        eventually_within(
            PATIENCE,
            "the payments group to have no lag and nothing pending",
            || async move {
                matches!(gateway.group_backlog(stream, "payments").await, Ok((0, 0))).then_some(())
            },
        )
        .await;
        Ok(())
    }

    async fn paid_so_far(&self, redis: &Redis) -> Result<u64> {
        Ok(redis.pool().xlen(&self.payments_stream).await?)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_payments_stopped_then_started_pays_all_50_orders_once() -> Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::start("catchup", &[]).await?;

    shop.stack.dev(&["stop", "payments"]).await?;
    let order_ids = shop
        .gateway
        .place_orders(&shop.shopper, &shop.products, "catchup", 0..50, 8)
        .await?;

    let (gateway, stream) = (&shop.gateway, &shop.orders_stream);
    eventually_within(
        PATIENCE,
        "all 50 OrderCreated to wait for the stopped payments",
        || async move {
            matches!(gateway.group_backlog(stream, "payments").await, Ok((50, 0))).then_some(())
        },
    )
    .await;
    let statuses = shop.gateway.order_statuses(&shop.shopper).await?;
    ensure!(
        statuses.values().all(|status| status == "created"),
        "nothing can be paid while payments is stopped: {statuses:?}"
    );

    shop.stack.dev(&["start", "payments"]).await?;
    shop.assert_all_paid_once(&order_ids).await?;
    let history = shop.gateway.history(&shop.shopper).await?;
    ensure!(
        order_ids
            .iter()
            .all(|id| history.get(id).is_some_and(|p| p.is_string())),
        "every order is in the history with its payment: {history:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill_9_payments_mid_burst_of_200_settles_every_order_exactly_once() -> Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut env = FAST_TAKEOVER.to_vec();
    // Charges take a while, so the kill lands on payments in flight.
    env.push(("PAYMENT_PROVIDER_LATENCY_MS", "100"));
    let shop = Shop::start("crash", &env).await?;
    let redis = shop.stack.redis().await?;

    let burst = shop.burst("crash", 0..200, 8);
    let in_flight = eventually_within(PATIENCE, "payments to be charging mid-burst", || async {
        let paid = shop.paid_so_far(&redis).await.ok()?;
        let pending: u64 = consumers(&redis, &shop.orders_stream, "payments")
            .await
            .ok()?
            .iter()
            .map(|c| c.pending)
            .sum();
        (paid >= 20 && pending > 0).then_some(pending)
    })
    .await;
    shop.stack.dev(&["kill", "payments"]).await?;
    let paid_at_kill = shop.paid_so_far(&redis).await?;
    ensure!(
        !burst.is_finished(),
        "the kill must land in the middle of the burst"
    );

    let order_ids = burst.await??;
    ensure!(
        paid_at_kill < 200,
        "payments was killed with {paid_at_kill} of 200 paid"
    );
    shop.stack.dev(&["start", "payments"]).await?;
    shop.assert_all_paid_once(&order_ids).await?;
    eprintln!(
        "killed with {in_flight} charges in flight and {paid_at_kill}/200 paid; all 200 paid once"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_three_payments_instances_share_a_burst_and_pay_each_order_once() -> Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::start("scale", &[("PAYMENT_PROVIDER_LATENCY_MS", "50")]).await?;
    shop.stack.dev(&["scale", "payments", "3"]).await?;
    let instances = shop.stack.instances("payments")?;
    ensure!(
        instances.len() == 3,
        "scale 3 runs three instances: {instances:?}"
    );
    let redis = shop.stack.redis().await?;

    // Watch the group while the burst runs: who holds entries (delivered, not yet acked).
    let burst = shop.burst("scale", 0..150, 12);
    let mut seen_pending: HashMap<String, u64> = HashMap::new();
    while !burst.is_finished() {
        for consumer in consumers(&redis, &shop.orders_stream, "payments").await? {
            let most = seen_pending.entry(consumer.name).or_default();
            *most = (*most).max(consumer.pending);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let order_ids = burst.await??;
    shop.assert_all_paid_once(&order_ids).await?;

    // The consumers of the live instances, from XINFO CONSUMERS (names start `payments-<pid>-`).
    let live: Vec<String> = consumers(&redis, &shop.orders_stream, "payments")
        .await?
        .into_iter()
        .map(|c| c.name)
        .filter(|name| {
            instances
                .values()
                .any(|(pid, _)| name.starts_with(&format!("payments-{pid}-")))
        })
        .collect();
    ensure!(
        live.len() == 3,
        "three live consumers in group payments: {live:?}"
    );
    for name in &live {
        ensure!(
            seen_pending.get(name).copied().unwrap_or(0) > 0,
            "consumer {name} was never seen holding an entry: {seen_pending:?}"
        );
    }
    // And each instance's own count of what it handled adds up to the burst.
    let mut handled = Vec::new();
    for (pid, port) in instances.values() {
        handled.push((*pid, processed_by(*port).await?));
    }
    ensure!(
        handled.iter().all(|(_, n)| *n > 0),
        "every instance handled orders: {handled:?}"
    );
    ensure!(
        handled.iter().map(|(_, n)| n).sum::<u64>() == 150,
        "the instances handled 150 entries between them: {handled:?}"
    );
    eprintln!(
        "150 orders over three consumers: {handled:?} (pid, handled); max pending seen {seen_pending:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_mid_traffic_loses_no_order_and_no_payment() -> Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let shop = Shop::start("redis", &FAST_TAKEOVER).await?;
    let redis = shop.stack.redis().await?;

    let traffic = shop.burst("redis", 0..300, 4);
    eventually_within(PATIENCE, "the first 40 payments", || async {
        (shop.paid_so_far(&redis).await.ok()? >= 40).then_some(())
    })
    .await;
    drop(redis);
    shop.stack.dev(&["stop", "redis"]).await?;
    ensure!(
        !traffic.is_finished(),
        "Redis must go down in the middle of the traffic"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shop.stack.dev(&["start", "redis"]).await?;

    // Clients saw 503s while Redis was down and retried with their idempotency keys.
    let order_ids = traffic.await??;
    ensure!(order_ids.len() == 300, "all 300 orders accepted");
    // The shopper's session survived in the AOF: every call below still uses the same token.
    shop.assert_all_paid_once(&order_ids).await?;
    let (gateway, shopper, order_ids) = (&shop.gateway, &shop.shopper, &order_ids);
    eventually_within(
        PATIENCE,
        "all 300 orders in the history with their payments",
        || async move {
            let history = gateway.history(shopper).await.ok()?;
            order_ids
                .iter()
                .all(|id| history.get(id).is_some_and(|p| p.is_string()))
                .then_some(())
        },
    )
    .await;
    Ok(())
}

/// `stream_processed_total` of group `payments`, from one payments instance's `/metrics`.
async fn processed_by(port: u16) -> Result<u64> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await?
        .text()
        .await?;
    text.lines()
        .find(|line| {
            line.starts_with("stream_processed_total{") && line.contains("group=\"payments\"")
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .with_context(|| format!("no stream_processed_total for group payments on :{port}"))
}
