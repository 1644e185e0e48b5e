//! A TCP link to the test Redis that a test can cut: the gateway connects through it, and cutting
//! it is Redis going down for that gateway alone.

use std::net::SocketAddr;

use reqwest::Url;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct RedisLink {
    /// `redis://` URL of the link, for the gateway's `REDIS_URL`.
    pub url: String,
    cut: CancellationToken,
}

impl RedisLink {
    pub async fn open() -> Self {
        let target = Url::parse(&shop_testkit::redis_url())
            .ok()
            .and_then(|url| Some(format!("{}:{}", url.host_str()?, url.port()?)))
            .unwrap_or_else(|| panic!("REDIS_URL needs a host and a port"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("binding the link: {error}"));
        let address: SocketAddr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("{error}"));
        let cut = CancellationToken::new();
        tokio::spawn(relay(listener, target, cut.clone()));
        Self {
            url: format!("redis://{address}"),
            cut,
        }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.cancel();
    }
}

async fn relay(listener: TcpListener, target: String, cut: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = cut.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((mut inbound, _)) = accepted else {
            return;
        };
        let (target, cut) = (target.clone(), cut.clone());
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(&target).await else {
                return;
            };
            tokio::select! {
                () = cut.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
            }
        });
    }
}
