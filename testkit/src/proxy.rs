use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards TCP connections to a target until told to cut: then every open connection is closed
/// and new ones are refused, until restored. Dropping it stops it.
pub struct TcpProxy {
    address: SocketAddr,
    open: watch::Sender<bool>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().unwrap();
        let (open, _) = watch::channel(true);
        let accepting = tokio::spawn(accept(listener, target.to_owned(), open.clone()));
        Self {
            address,
            open,
            accepting,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, target: String, open: watch::Sender<bool>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if !*open.borrow() {
            drop(client);
            continue;
        }
        let mut cut = open.subscribe();
        let target = target.clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&target).await else {
                return;
            };
            let mut client = client;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.wait_for(|open| !*open) => {}
            }
        });
    }
}
