//! The storefront and the console in a real headless Chromium, against the whole shop: a shopper's
//! journey from registering to a paid order that turns `paid` on the page by itself, a declined
//! payment's reason, the errors a shopper can meet, an order followed live while payments is
//! stopped and started, and the console's lag, dead letters, replay and order timeline.
//! `scripts/test.sh` starts the chromedriver these need (`CHROMEDRIVER_URL`).

mod support;

use serde_json::{Value, json};
use shop_e2e::{ADMIN_TOKEN, Product, Shop, Shopper, product};

use support::{Browser, ONE_BROWSER};

fn catalog() -> Vec<Product> {
    let item = |id: &str, name: &str, brand: &str, category: &str, price: i64, stock: i64| {
        let mut product = product(id, price, stock);
        product.name = name.to_owned();
        product.brand = brand.to_owned();
        product.category = category.to_owned();
        product.description = format!("{name} by {brand}.");
        product
    };
    vec![
        item(
            "p-linen",
            "Linen Summer Shirt",
            "Atelier Rue",
            "Apparel",
            4_500,
            20,
        ),
        item(
            "p-scarf",
            "Wool Scarf",
            "Atelier Rue",
            "Accessories",
            2_900,
            20,
        ),
        item("p-boots", "Trail Boots", "Northpeak", "Footwear", 12_900, 5),
        item(
            "p-watch",
            "Gold Watch",
            "Horloge",
            "Accessories",
            650_000,
            3,
        ),
        item("p-soap", "Olive Soap", "Savon", "Personal Care", 600, 0),
    ]
}

/// The order id of the order page the browser is on.
async fn order_id_on_page(browser: &Browser) -> String {
    browser
        .eventually("an order page", || async {
            let hash = browser.script("return location.hash;", vec![]).await;
            hash.as_str()?.strip_prefix("#/orders/").map(str::to_owned)
        })
        .await
}

/// Marks the page; `still_marked` is then false after any reload or navigation away.
async fn mark(browser: &Browser) {
    browser.script("window.__notReloaded = true;", vec![]).await;
}

async fn still_marked(browser: &Browser) -> bool {
    browser
        .script("return window.__notReloaded === true;", vec![])
        .await
        .as_bool()
        .unwrap_or(false)
}

#[tokio::test]
async fn a_shopper_registers_searches_fills_the_cart_double_clicks_checkout_and_sees_one_order_turn_paid()
 {
    let _one = ONE_BROWSER.lock().await;
    let shop = Shop::start(&catalog()).await;
    let browser = Browser::open(&shop).await;

    browser.goto("/").await;
    browser.wait_text("#result-count", "5 products").await;
    browser
        .wait_for("#products [data-product-id='p-soap'] button.add[disabled]")
        .await;
    browser.screenshot("storefront").await;
    let load = browser
        .script(
            "const nav = performance.getEntriesByType('navigation')[0]; \
             const res = performance.getEntriesByType('resource'); \
             const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint'); \
             return {urls: [nav.name, ...res.map(r => r.name)], \
                     bytes: [nav, ...res].reduce((n, r) => n + r.transferSize, 0), \
                     firstPaintMs: paint ? paint.startTime : null};",
            vec![],
        )
        .await;
    let urls: Vec<&str> = load["urls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let origin = shop.gateway.address.trim_end_matches('/');
    assert!(
        urls.iter().all(|url| url.starts_with(origin)),
        "the storefront loaded something from another origin: {urls:#?}"
    );
    // Measured, not asserted: the page weight and first paint of a cold first load.
    eprintln!(
        "storefront first load: {} requests, {} bytes transferred, first contentful paint {} ms",
        urls.len(),
        load["bytes"],
        load["firstPaintMs"]
    );
    browser.resize(390, 844).await;
    browser.screenshot("storefront-phone").await;
    browser.resize(1280, 900).await;

    browser.click("#nav-account").await;
    browser.click("a[href='#/register']").await;
    browser.fill("#in-name", "Ada").await;
    browser.fill("#in-email", "ada@example.com").await;
    browser.fill("#in-password", "correct horse battery").await;
    browser.click("#register-submit").await;
    browser
        .wait_text("#messages", "Your account is ready")
        .await;
    browser.fill("#in-password", "correct horse battery").await;
    browser.click("#login-submit").await;
    browser.wait_text("#who", "Signed in as Ada").await;

    browser.click("[data-nav='catalog']").await;
    browser.fill("#f-search", "linen").await;
    browser.click(".filters button[type='submit']").await;
    browser.wait_text("#result-count", "1 product").await;
    browser
        .wait_for("#products [data-product-id='p-linen']")
        .await;
    browser.select("#f-category", "Footwear").await;
    browser.fill("#f-search", "").await;
    browser.click(".filters button[type='submit']").await;
    browser.wait_text("#result-count", "1 product").await;
    browser
        .wait_for("#products [data-product-id='p-boots']")
        .await;
    browser.goto("/#/?minPrice=30&maxPrice=50").await;
    browser.wait_text("#result-count", "1 product").await;
    browser
        .wait_for("#products [data-product-id='p-linen']")
        .await;

    browser
        .click("#products [data-product-id='p-linen'] button.add")
        .await;
    browser.wait_text("#nav-cart", "Cart (1)").await;
    browser
        .click("#products [data-product-id='p-linen'] a.name")
        .await;
    browser.wait_text("#stock", "20 in stock").await;
    browser.fill("#qty", "2").await;
    browser.click("#add-to-cart").await;
    browser.wait_text("#nav-cart", "Cart (3)").await;
    // The cart is the gateway's: a new page load reads it back from Redis.
    browser.load("/#/cart").await;
    browser.wait_text("#nav-cart", "Cart (3)").await;
    browser.wait_text("#cart-total", "$135.00").await;

    browser.double_click("#checkout").await;
    let order_id = order_id_on_page(&browser).await;
    mark(&browser).await;
    browser.wait_for("#order-status[data-status='paid']").await;
    assert!(still_marked(&browser).await, "the page reloaded");
    browser.screenshot("order-page").await;

    let ada = Shopper {
        user_id: String::new(),
        email: "ada@example.com".to_owned(),
        token: browser.token().await,
    };
    let orders = shop.get_as(&ada, "/api/orders").await;
    assert_eq!(
        orders["total"], 1,
        "a double click placed one order: {orders}"
    );
    assert_eq!(orders["items"][0]["orderId"], order_id.as_str());
    assert_eq!(shop.get_as(&ada, "/api/cart").await["items"], json!([]));

    browser.click("[data-nav='history']").await;
    browser
        .wait_for(&format!(
            "#history tr[data-order-id='{order_id}'] [data-status='paid']"
        ))
        .await;
    browser.click("[data-nav='account']").await;
    browser.wait_text("#me-email", "ada@example.com").await;
    browser.wait_for("#identity-score").await;
    browser.click("#logout").await;
    browser.wait_text("#messages", "You are signed out").await;
    browser.wait_text("#nav-account", "Sign in").await;
    browser.close().await;
}

#[tokio::test]
async fn a_declined_payment_shows_its_reason_and_stock_auth_and_outage_errors_are_explained() {
    let _one = ONE_BROWSER.lock().await;
    let mut shop = Shop::start(&catalog()).await;
    let bob = shop.register_and_login("bob").await;
    let browser = Browser::open(&shop).await;
    browser.sign_in_as(&bob, "Bob").await;

    shop.put_cart_as(&bob, &[("p-watch", 1)]).await;
    browser.load("/#/cart").await;
    browser.click("#checkout").await;
    order_id_on_page(&browser).await;
    browser
        .wait_for("#order-status[data-status='payment_failed']")
        .await;
    browser
        .wait_text("#decline-reason", "amount_limit_exceeded")
        .await;
    browser.screenshot("order-declined").await;

    shop.put_cart_as(&bob, &[("p-boots", 6)]).await;
    browser.load("/#/cart").await;
    browser
        .wait_for("#cart tr[data-product-id='p-boots']")
        .await;
    browser.click("#checkout").await;
    browser.wait_text("#messages", "Out of stock").await;

    shop.stop_order_history().await;
    browser.click("[data-nav='history']").await;
    browser.wait_text("#messages", "down right now").await;

    browser
        .script(
            "localStorage.setItem('shop.token', 'not-a-live-session');",
            vec![],
        )
        .await;
    browser.goto("/#/orders").await;
    browser.wait_text("#messages", "You are signed out").await;
    browser.wait_text("#nav-account", "Sign in").await;
    browser.close().await;
}

#[tokio::test]
async fn with_payments_stopped_the_order_page_shows_created_and_the_console_the_lag_until_both_catch_up()
 {
    let _one = ONE_BROWSER.lock().await;
    let mut shop = Shop::start(&catalog()).await;
    let cleo = shop.register_and_login("cleo").await;
    // One order first, so the payments group exists and its lag can be read.
    let first = shop.order_as(&cleo, &[("p-scarf", 1)]).await;
    shop.settled_for(&cleo, first["orderId"].as_str().unwrap_or_default())
        .await;
    shop.stop_payments().await;
    let browser = Browser::open(&shop).await;
    browser.sign_in_as(&cleo, "Cleo").await;

    shop.put_cart_as(&cleo, &[("p-scarf", 2)]).await;
    browser.load("/#/cart").await;
    browser.click("#checkout").await;
    order_id_on_page(&browser).await;
    mark(&browser).await;
    browser
        .wait_for("#order-status[data-status='created']")
        .await;
    browser.wait_text("#live-state", "live").await;

    let order_tab = browser.new_tab().await;
    browser.goto("/ops").await;
    browser.fill("#admin-token", ADMIN_TOKEN).await;
    browser.click("#token-submit").await;
    let payments_lag = "[data-stream$='ORDERS_STREAM'] [data-group='payments'] [data-field='lag']";
    browser.wait_text(payments_lag, "1").await;
    browser
        .wait_for("[data-service='payments'][data-health='down']")
        .await;
    // A few refreshes, so the lag chart has a line to show.
    browser
        .eventually("three samples on the lag chart", || async {
            let points = browser
                .script(
                    "return document.querySelector('#charts polyline')?.points.length ?? 0;",
                    vec![],
                )
                .await;
            (points.as_u64() >= Some(3)).then_some(())
        })
        .await;
    browser.screenshot_page("console-lag").await;

    shop.start_payments().await;
    browser.wait_text(payments_lag, "0").await;
    browser
        .wait_for("[data-service='payments'][data-health='up']")
        .await;
    browser.screenshot_page("console-caught-up").await;
    browser.switch_to(order_tab).await;
    browser.wait_for("#order-status[data-status='paid']").await;
    assert!(still_marked(&browser).await, "the order page reloaded");
    browser.close().await;
}

#[tokio::test]
async fn the_console_lists_a_dead_letter_replays_it_and_shows_the_paid_orders_timeline() {
    let _one = ONE_BROWSER.lock().await;
    let mut shop = Shop::start(&catalog()).await;
    let dan = shop.register_and_login("dan").await;
    shop.stop_payments().await;
    let order = shop.order_as(&dan, &[("p-linen", 1)]).await;
    let order_id = order["orderId"].as_str().unwrap_or_default().to_owned();
    shop.dead_letter_order_created(&order_id, "the payments database was unreachable")
        .await;
    shop.start_payments().await;

    let browser = Browser::open(&shop).await;
    browser.goto("/ops").await;
    browser.fill("#admin-token", ADMIN_TOKEN).await;
    browser.click("#token-submit").await;
    browser.wait_text("#dlq-total", "1 dead letter").await;
    browser
        .wait_text(
            "#dlq-table .dlq-error",
            "the payments database was unreachable",
        )
        .await;
    browser
        .wait_text("#dlq-table td:nth-child(2)", "payments")
        .await;
    browser.fill("#timeline-order", &order_id).await;
    browser.click("#timeline-show").await;
    browser
        .wait_for("#timeline-events tr[data-type='OrderCreated'][data-stream$='ORDERS_STREAM:dlq']")
        .await;
    browser.screenshot_page("console").await;

    browser.click("#dlq-replay").await;
    browser
        .wait_text("#messages", "1 dead letter of ORDERS_STREAM replayed")
        .await;
    browser.wait_text("#dlq-total", "0 dead letters").await;
    let paid = shop.settled_for(&dan, &order_id).await;
    assert_eq!(paid["status"], "paid", "{paid}");

    browser.click("#timeline-show").await;
    browser
        .wait_for(
            "#timeline-events tr[data-type='PaymentProcessed'][data-stream$='PAYMENTS_STREAM']",
        )
        .await;
    browser
        .wait_for("#timeline-events tr[data-type='OrderCreated'][data-stream$='ORDERS_STREAM'] [data-group='payments'][data-state='acked']")
        .await;
    browser.wait_text("#stock-movements", "reserve").await;
    browser.wait_text("#outbox-state", "published").await;
    browser.screenshot_page("console-timeline").await;
    browser.close().await;
}
