//! Proves the servers `scripts/test.sh` provides are real: these tests fail when
//! Redis or the MongoDB-compatible server is not there.

use std::error::Error;

use fred::prelude::*;
use mongodb::{
    IndexModel,
    bson::{Document, doc},
    error::{ErrorKind, WriteError, WriteFailure},
    options::IndexOptions,
};

type TestResult = Result<(), Box<dyn Error>>;

#[tokio::test]
async fn redis_answers_ping_strings_and_streams() -> TestResult {
    let client = Builder::from_config(Config::from_url(&shop_testkit::redis_url())?).build()?;
    client.init().await?;

    let pong: String = client.ping(None).await?;
    assert_eq!(pong, "PONG");

    let prefix = shop_testkit::unique_name("testkit");
    let key = format!("{prefix}:greeting");
    let _: () = client.set(&key, "hello", None, None, false).await?;
    let value: Option<String> = client.get(&key).await?;
    assert_eq!(value.as_deref(), Some("hello"));

    let stream = format!("{prefix}:events");
    for n in 0..3 {
        let _id: String = client
            .xadd(&stream, false, None, "*", vec![("n", n.to_string())])
            .await?;
    }
    let len: u64 = client.xlen(&stream).await?;
    assert_eq!(len, 3);

    let _: i64 = client.del(vec![key, stream]).await?;
    client.quit().await?;
    Ok(())
}

#[tokio::test]
async fn mongodb_stores_documents_and_enforces_unique_indexes() -> TestResult {
    let db = shop_testkit::mongo_database("testkit").await;
    let name = db.name().to_owned();
    assert!(name.starts_with("testkit_"), "{name}");

    let items = db.collection::<Document>("items");
    items
        .insert_one(doc! { "_id": "a", "sku": "SKU-1", "qty": 2 })
        .await?;
    let found = items.find_one(doc! { "_id": "a" }).await?;
    let found = found.ok_or("inserted document not found")?;
    assert_eq!(found.get_str("sku")?, "SKU-1");
    assert_eq!(found.get_i32("qty")?, 2);

    let index = IndexModel::builder()
        .keys(doc! { "sku": 1 })
        .options(IndexOptions::builder().unique(true).build())
        .build();
    items.create_index(index).await?;

    let err = match items.insert_one(doc! { "_id": "b", "sku": "SKU-1" }).await {
        Ok(_) => return Err("a duplicate sku was accepted despite the unique index".into()),
        Err(err) => err,
    };
    match *err.kind {
        ErrorKind::Write(WriteFailure::WriteError(WriteError { code, .. })) => {
            assert_eq!(code, 11000, "expected a duplicate-key error, got {err}");
        }
        _ => return Err(format!("expected a duplicate-key write error, got {err}").into()),
    }
    assert_eq!(items.count_documents(doc! {}).await?, 1);

    db.drop().await?;
    Ok(())
}
