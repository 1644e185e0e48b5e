//! A minimal RESP2 client over one TCP connection: commands as byte strings, replies as byte
//! strings. The harness needs what a full client hides: writing field names and values that are
//! not UTF-8, sending a malformed command (an odd number of field items) to see the server refuse
//! it, and reading entries back byte for byte. Every call is bounded by a timeout, and a
//! connection is used for a handful of calls and dropped, so a killed or frozen Redis costs one
//! failed call, never a hung harness.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The largest bulk string accepted in a reply (the poison's huge values are ~1 MiB).
const MAX_BULK: usize = 64 * 1024 * 1024;
/// How deep nested arrays may go (stream replies are 4 levels deep).
const MAX_DEPTH: usize = 8;

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text, for simple and bulk strings (lossy for non-UTF-8 bytes).
    pub fn text(&self) -> Option<String> {
        match self {
            Self::Simple(s) => Some(s.clone()),
            Self::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        }
    }

    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bulk(Some(bytes)) => Some(bytes),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Bulk(Some(_)) | Self::Simple(_) => self.text()?.parse().ok(),
            _ => None,
        }
    }

    /// The items of an array reply (a nil array is empty).
    pub fn items(&self) -> &[Reply] {
        match self {
            Self::Array(Some(items)) => items,
            _ => &[],
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Bulk(None) | Self::Array(None))
    }
}

/// Where a Redis is: `host:port` from a `redis://host:port[/db]` URL without credentials.
pub fn address_of(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("redis://")
        .with_context(|| format!("not a redis:// URL: {url}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        bail!("the harness only talks to the private, password-less Redis of its stack");
    }
    Ok(authority.to_owned())
}

/// One connection.
#[derive(Debug)]
pub struct Resp {
    stream: BufReader<TcpStream>,
    timeout: Duration,
}

impl Resp {
    pub async fn connect(address: &str, timeout: Duration) -> Result<Self> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .with_context(|| format!("connecting to redis at {address}: timed out"))?
            .with_context(|| format!("connecting to redis at {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            timeout,
        })
    }

    /// Sends one command and reads its reply. An error reply is a `Reply::Error`, not an `Err`:
    /// the caller decides (the odd-arity probe expects one).
    pub async fn call(&mut self, args: &[&[u8]]) -> Result<Reply> {
        let mut frame = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            frame.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            frame.extend_from_slice(arg);
            frame.extend_from_slice(b"\r\n");
        }
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.stream.get_mut().write_all(&frame).await?;
            read_reply(&mut self.stream, 0).await
        })
        .await
        .context("redis did not answer in time")?
    }

    /// Like [`Resp::call`], but an error reply is an `Err`.
    pub async fn ok(&mut self, args: &[&[u8]]) -> Result<Reply> {
        match self.call(args).await? {
            Reply::Error(message) => bail!(
                "{}: {message}",
                String::from_utf8_lossy(args.first().copied().unwrap_or_default())
            ),
            reply => Ok(reply),
        }
    }
}

/// One reply line without its CRLF: the type byte and the rest.
async fn read_line(stream: &mut BufReader<TcpStream>) -> Result<(u8, String)> {
    let mut line = Vec::new();
    let n = stream.read_until(b'\n', &mut line).await?;
    if n == 0 {
        bail!("redis closed the connection");
    }
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        bail!("a malformed reply line");
    }
    line.truncate(line.len() - 2);
    Ok((line[0], String::from_utf8_lossy(&line[1..]).into_owned()))
}

fn read_reply(
    stream: &mut BufReader<TcpStream>,
    depth: usize,
) -> futures::future::BoxFuture<'_, Result<Reply>> {
    Box::pin(async move {
        if depth > MAX_DEPTH {
            bail!("a reply nested deeper than {MAX_DEPTH}");
        }
        let (kind, rest) = read_line(stream).await?;
        match kind {
            b'+' => Ok(Reply::Simple(rest)),
            b'-' => Ok(Reply::Error(rest)),
            b':' => Ok(Reply::Int(rest.parse().context("an integer reply")?)),
            b'$' => {
                let len: i64 = rest.parse().context("a bulk length")?;
                if len < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let len = usize::try_from(len)?;
                if len > MAX_BULK {
                    bail!("a bulk string of {len} bytes");
                }
                let mut bytes = vec![0; len + 2];
                stream.read_exact(&mut bytes).await?;
                bytes.truncate(len);
                Ok(Reply::Bulk(Some(bytes)))
            }
            b'*' => {
                let len: i64 = rest.parse().context("an array length")?;
                if len < 0 {
                    return Ok(Reply::Array(None));
                }
                let mut items = Vec::with_capacity(usize::try_from(len)?.min(4_096));
                for _ in 0..len {
                    items.push(read_reply(stream, depth + 1).await?);
                }
                Ok(Reply::Array(Some(items)))
            }
            other => bail!("an unknown reply type {:?}", char::from(other)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_local_redis_urls_are_accepted() {
        assert_eq!(
            address_of("redis://127.0.0.1:6380").ok().as_deref(),
            Some("127.0.0.1:6380")
        );
        assert_eq!(
            address_of("redis://127.0.0.1:6380/0").ok().as_deref(),
            Some("127.0.0.1:6380")
        );
        assert!(address_of("redis://:pw@127.0.0.1:6380").is_err());
        assert!(address_of("http://x").is_err());
    }

    #[test]
    fn replies_convert() {
        assert_eq!(Reply::Bulk(Some(b"12".to_vec())).int(), Some(12));
        assert_eq!(Reply::Int(3).int(), Some(3));
        assert!(Reply::Array(None).items().is_empty());
        assert!(Reply::Bulk(None).is_nil());
        assert_eq!(
            Reply::Bulk(Some(vec![0xff, b'a'])).text().as_deref(),
            Some("\u{fffd}a")
        );
    }
}
