//! The stream commands the harness uses, byte-exact, over [`crate::resp`]: appending (poison),
//! reading entries back, stream lengths and consumer-group state.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::resp::{Reply, Resp};

/// The timeout of each call: a healthy local Redis answers in microseconds.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// Entries per `XRANGE` page.
const PAGE: usize = 500;

/// One stream entry, fields as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl RawEntry {
    /// The value of a field, as text (lossy), when the entry has it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(n, _)| n.as_slice() == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// One consumer group, from `XINFO GROUPS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: String,
    pub consumers: u64,
    pub pending: u64,
    /// `None` when Redis cannot tell (after deletions or a lost history).
    pub lag: Option<u64>,
    pub last_delivered: String,
}

/// A connection to the stack's Redis.
#[derive(Debug, Clone)]
pub struct RedisView {
    address: String,
}

impl RedisView {
    pub fn new(address: String) -> Self {
        Self { address }
    }

    pub async fn connect(&self) -> Result<Resp> {
        Resp::connect(&self.address, CALL_TIMEOUT).await
    }

    /// `XADD stream * f v ...`; the new entry's id.
    pub async fn xadd(&self, stream: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<String> {
        let mut args: Vec<&[u8]> = vec![b"XADD", stream.as_bytes(), b"*"];
        for (name, value) in fields {
            args.push(name);
            args.push(value);
        }
        let reply = self.connect().await?.ok(&args).await?;
        reply.text().context("XADD answered without an id")
    }

    /// Sends `XADD stream * type` (one field name, no value) and returns the server's answer:
    /// RESP cannot express an odd number of field items in a valid XADD, and Redis must refuse it.
    pub async fn odd_arity_xadd(&self, stream: &str) -> Result<Reply> {
        self.connect()
            .await?
            .call(&[b"XADD", stream.as_bytes(), b"*", b"type"])
            .await
    }

    pub async fn xlen(&self, stream: &str) -> Result<u64> {
        let reply = self
            .connect()
            .await?
            .ok(&[b"XLEN", stream.as_bytes()])
            .await?;
        reply
            .int()
            .and_then(|n| u64::try_from(n).ok())
            .context("XLEN")
    }

    /// The lengths of several streams over one connection (before and after a Redis kill).
    pub async fn lengths(&self, streams: &[String]) -> Result<Vec<u64>> {
        let mut conn = self.connect().await?;
        let mut out = Vec::with_capacity(streams.len());
        for stream in streams {
            let reply = conn.ok(&[b"XLEN", stream.as_bytes()]).await?;
            out.push(reply.int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0));
        }
        Ok(out)
    }

    /// Whether the entry `id` is still in `stream`.
    pub async fn exists(&self, stream: &str, id: &str) -> Result<bool> {
        let reply = self
            .connect()
            .await?
            .ok(&[b"XRANGE", stream.as_bytes(), id.as_bytes(), id.as_bytes()])
            .await?;
        Ok(!reply.items().is_empty())
    }

    /// Every entry of `stream`, oldest first.
    pub async fn read_all(&self, stream: &str) -> Result<Vec<RawEntry>> {
        let mut conn = self.connect().await?;
        let mut all: Vec<RawEntry> = Vec::new();
        let count = PAGE.to_string();
        loop {
            let start = all
                .last()
                .map_or_else(|| "-".to_owned(), |e| format!("({}", e.id));
            let reply = conn
                .ok(&[
                    b"XRANGE",
                    stream.as_bytes(),
                    start.as_bytes(),
                    b"+",
                    b"COUNT",
                    count.as_bytes(),
                ])
                .await?;
            let page = entries(&reply)?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }

    /// The consumer groups of `stream` (none when the stream does not exist).
    pub async fn groups(&self, stream: &str) -> Result<Vec<GroupInfo>> {
        let reply = self
            .connect()
            .await?
            .call(&[b"XINFO", b"GROUPS", stream.as_bytes()])
            .await?;
        match reply {
            Reply::Error(message) if message.contains("no such key") => Ok(Vec::new()),
            Reply::Error(message) => bail!("XINFO GROUPS {stream}: {message}"),
            reply => reply.items().iter().map(group).collect(),
        }
    }

    /// The id of the last entry ever added to `stream` (`0-0` when it does not exist).
    pub async fn last_generated_id(&self, stream: &str) -> Result<String> {
        let reply = self
            .connect()
            .await?
            .call(&[b"XINFO", b"STREAM", stream.as_bytes()])
            .await?;
        match reply {
            Reply::Error(message) if message.contains("no such key") => Ok("0-0".to_owned()),
            Reply::Error(message) => bail!("XINFO STREAM {stream}: {message}"),
            reply => Ok(pairs(&reply)
                .find(|(k, _)| k == "last-generated-id")
                .and_then(|(_, v)| v.text())
                .unwrap_or_else(|| "0-0".to_owned())),
        }
    }
}

/// `[[id, [f, v, ...]], ...]` (a deleted entry's fields are nil).
pub fn entries(reply: &Reply) -> Result<Vec<RawEntry>> {
    reply
        .items()
        .iter()
        .map(|entry| {
            let parts = entry.items();
            let id = parts
                .first()
                .and_then(Reply::text)
                .context("an entry without an id")?;
            let flat = parts.get(1).map(Reply::items).unwrap_or_default();
            let fields = flat
                .chunks(2)
                .filter_map(|pair| {
                    Some((
                        pair.first()?.bytes()?.to_vec(),
                        pair.get(1)?.bytes()?.to_vec(),
                    ))
                })
                .collect();
            Ok(RawEntry { id, fields })
        })
        .collect()
}

/// The name/value pairs of a flat RESP2 map reply.
fn pairs(reply: &Reply) -> impl Iterator<Item = (String, &Reply)> {
    reply
        .items()
        .chunks(2)
        .filter_map(|pair| Some((pair.first()?.text()?, pair.get(1)?)))
}

fn group(reply: &Reply) -> Result<GroupInfo> {
    let mut info = GroupInfo {
        name: String::new(),
        consumers: 0,
        pending: 0,
        lag: None,
        last_delivered: "0-0".to_owned(),
    };
    for (key, value) in pairs(reply) {
        let number = || value.int().and_then(|n| u64::try_from(n).ok());
        match key.as_str() {
            "name" => info.name = value.text().unwrap_or_default(),
            "consumers" => info.consumers = number().unwrap_or(0),
            "pending" => info.pending = number().unwrap_or(0),
            "lag" => info.lag = number(),
            "last-delivered-id" => info.last_delivered = value.text().unwrap_or_default(),
            _ => {}
        }
    }
    if info.name.is_empty() {
        bail!("XINFO GROUPS: a group without a name");
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &[u8]) -> Reply {
        Reply::Bulk(Some(s.to_vec()))
    }

    #[test]
    fn entries_keep_non_utf8_bytes_and_skip_deleted_fields() {
        let reply = Reply::Array(Some(vec![
            Reply::Array(Some(vec![
                bulk(b"1-0"),
                Reply::Array(Some(vec![bulk(b"orderId"), bulk(&[0xff, 0xfe])])),
            ])),
            Reply::Array(Some(vec![bulk(b"2-0"), Reply::Array(None)])),
        ]));
        let parsed = entries(&reply).ok().unwrap_or_default();

        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].fields[0].1, vec![0xff, 0xfe]);
        assert_eq!(
            parsed[0].field("orderId").as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
        assert!(parsed[1].fields.is_empty());
    }

    #[test]
    fn group_info_is_read_from_a_flat_map() {
        let reply = Reply::Array(Some(vec![
            bulk(b"name"),
            bulk(b"payments"),
            bulk(b"consumers"),
            Reply::Int(2),
            bulk(b"pending"),
            Reply::Int(1),
            bulk(b"last-delivered-id"),
            bulk(b"5-0"),
            bulk(b"lag"),
            Reply::Bulk(None),
        ]));
        let info = group(&reply).ok();

        assert_eq!(
            info,
            Some(GroupInfo {
                name: "payments".into(),
                consumers: 2,
                pending: 1,
                lag: None,
                last_delivered: "5-0".into(),
            })
        );
    }
}
