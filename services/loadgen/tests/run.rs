//! Short runs of the load generator against the whole shop in-process (`shop_e2e::Shop`): every
//! operation reaches its endpoint, nothing fails, every order is read back paid. Correctness only:
//! no timing is asserted (the suite shares two cores with everything else).

use std::time::Duration;

use shop_e2e::Shop;
use shop_loadgen::{Config, Load, Mix, OverheadConfig, Report};

async fn start_shop() -> Shop {
    let catalog: Vec<_> = (1..=5)
        .map(|i| shop_e2e::product(&format!("p-{i}"), 1_999, 1_000))
        .collect();
    Shop::start(&catalog).await
}

fn config(shop: &Shop, load: Load) -> Config {
    let url = |address: &str| {
        address
            .parse()
            .unwrap_or_else(|error| panic!("{address}: {error}"))
    };
    Config {
        gateway: url(&shop.gateway.address),
        load,
        warmup: Duration::from_millis(300),
        duration: Duration::from_secs(2),
        users: 3,
        mix: Mix::default(),
        settle_timeout: Duration::from_secs(30),
        overhead: None,
        request_timeout: Duration::from_secs(15),
        seed: 7,
        run_id: "test".to_owned(),
    }
}

async fn run(config: &Config) -> Report {
    shop_loadgen::run(config)
        .await
        .unwrap_or_else(|error| panic!("the run could not be made: {error}"))
}

fn assert_every_endpoint_used_without_errors(report: &Report) {
    for endpoint in &report.load.endpoints {
        assert!(
            endpoint.requests > 0,
            "{} was never called",
            endpoint.endpoint
        );
        assert_eq!(
            endpoint.errors, 0,
            "{}: {:?}",
            endpoint.endpoint, endpoint.errors_by_kind
        );
        assert!(endpoint.latency.is_some(), "{}", endpoint.endpoint);
    }
}

fn assert_every_order_paid(report: &Report) {
    let orders = &report.orders.settlement;
    assert!(orders.placed > 0, "no order in the recorded window");
    assert_eq!(orders.paid, orders.placed, "{orders:?}");
    assert_eq!(
        (orders.payment_failed, orders.unsettled),
        (0, 0),
        "{orders:?}"
    );
    assert!(orders.order_to_paid.is_some(), "{orders:?}");
    assert_eq!(report.error_rate_pct, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_run_reaches_every_endpoint_and_every_order_is_paid() {
    let shop = start_shop().await;
    let config = Config {
        overhead: Some(OverheadConfig {
            direct_products: shop
                .products
                .address
                .parse()
                .unwrap_or_else(|error| panic!("{error}")),
            duration: Duration::from_secs(1),
            concurrency: 2,
            window: Duration::from_millis(250),
        }),
        ..config(&shop, Load::Closed { concurrency: 4 })
    };

    let report = run(&config).await;

    assert_every_endpoint_used_without_errors(&report);
    assert_every_order_paid(&report);
    let overhead = report
        .overhead
        .as_ref()
        .unwrap_or_else(|| panic!("measured"));
    let (t, l) = (&overhead.throughput, &overhead.latency);
    assert!(t.direct_rps > 0.0 && t.gateway_rps > 0.0, "{t:?}");
    assert!(l.direct.is_some() && l.gateway.is_some(), "{l:?}");
    let errors = t.direct_errors + t.gateway_errors + l.direct_errors + l.gateway_errors;
    assert_eq!(errors, 0, "{overhead:?}");
    assert!(report.to_string().contains("gateway overhead"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_run_performs_every_scheduled_operation_and_every_order_is_paid() {
    let shop = start_shop().await;
    let config = Config {
        // Off the 25 ms grid of the schedule, so no operation is due exactly on a boundary.
        warmup: Duration::from_millis(310),
        ..config(
            &shop,
            Load::Open {
                rate: 40.0,
                max_in_flight: 16,
            },
        )
    };

    let report = run(&config).await;

    // Every operation due in the 2 s window is performed and recorded, however late it started.
    assert_eq!(report.load.requests, 80);
    assert_every_endpoint_used_without_errors(&report);
    assert_every_order_paid(&report);
}
