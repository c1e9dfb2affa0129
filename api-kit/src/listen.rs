//! The listening socket every server of the system accepts on.

use std::io;

use tokio::net::{TcpListener, TcpSocket};

/// Connections the kernel may hold for us before we accept them. The clients of a node that
/// restarted, or that lost them all at once, come back together; the usual 128 overflows then,
/// and each dropped connection attempt waits a second or more before its next try. The kernel
/// caps this at `net.core.somaxconn` (4096 by default).
const BACKLOG: u32 = 4096;

/// Binds `address` (`host:port`; port 0 picks a free one) with a backlog sized for reconnect
/// storms.
pub async fn listen(address: &str) -> io::Result<TcpListener> {
    let mut last_error = None;
    for address in tokio::net::lookup_host(address).await? {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // A restarted server can bind again while its old connections linger in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        match socket.bind(address).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listener_accepts_on_the_port_it_picked() {
        let listener = listen("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(address), listener.accept());
        assert_eq!(client.unwrap().local_addr().unwrap(), accepted.unwrap().1);
    }

    #[tokio::test]
    async fn an_address_without_a_port_is_refused() {
        assert!(listen("127.0.0.1").await.is_err());
    }
}
