//! The deployed layout is the tested one: command-api ×2, query-api, projector ×2 and fan-out ×2,
//! each a `chat` process of its own as `deploy/docker-compose.yml` starts them, behind Caddy
//! serving `deploy/Caddyfile`. Users reach the system through the proxy only; the stories look
//! at single processes just to know where a socket landed, which command API answered, or to
//! kill one.

mod a_fanout_node_dies;
mod across_fanout_nodes;
mod bots_and_the_feed_through_the_proxy;
mod direct_messages_through_the_proxy;
mod search_through_the_proxy;
mod seed_contract;
mod webhooks_through_the_proxy;

use crate::caddy::Caddy;
use crate::helpers::{client_of, TestApp};
use crate::processes::{Deployment, Node};
use crate::reading_metrics::sample;
use crate::sockets::Socket;

pub struct Topology {
    /// A client of the system as its users reach it: through the proxy.
    pub app: TestApp,
    pub caddy: Caddy,
    pub command_apis: Vec<Node>,
    pub fanouts: Vec<Node>,
    pub query_api: Node,
    _projectors: Vec<Node>,
    /// Dropped last: its bus queues are deleted once every process is gone.
    _deployment: Deployment,
}

impl Topology {
    /// Starts every process on a fresh database, then Caddy in front of them.
    pub async fn start() -> Self {
        let deployment = Deployment::new().await;
        let (command_a, command_b, query_api, projector_a, projector_b, fanout_a, fanout_b) = tokio::join!(
            deployment.start("command-api", &[]),
            deployment.start("command-api", &[]),
            deployment.start("query-api", &[]),
            deployment.start("projector", &[]),
            deployment.start("projector", &[]),
            deployment.start("fanout", &[]),
            deployment.start("fanout", &[]),
        );
        let command_apis = vec![command_a, command_b];
        let fanouts = vec![fanout_a, fanout_b];
        let caddy = Caddy::start(&[
            ("CHAT_PROXY_COMMAND_API", upstreams(&command_apis)),
            (
                "CHAT_PROXY_QUERY_API",
                upstreams(std::slice::from_ref(&query_api)),
            ),
            ("CHAT_PROXY_FANOUT", upstreams(&fanouts)),
        ])
        .await;
        let app = client_of(
            caddy.address.clone(),
            &deployment.pool,
            &deployment.database_url,
        );
        Self {
            app,
            caddy,
            command_apis,
            fanouts,
            query_api,
            _projectors: vec![projector_a, projector_b],
            _deployment: deployment,
        }
    }

    /// Opens a socket through the proxy and waits until it is live; answers it with the index
    /// of the fan-out node that holds it (the one whose open sockets grew by one).
    pub async fn socket(&self, room_id: &str, token: &str, query: &str) -> (Socket, usize) {
        let before = self.open_sockets().await;
        let socket = self.app.socket(room_id, token, query).await;
        let after = self.open_sockets().await;
        let grew: Vec<usize> = (0..self.fanouts.len())
            .filter(|&node| after[node] == before[node] + 1.0)
            .collect();
        assert_eq!(
            grew.len(),
            1,
            "one node took the socket: before {before:?}, after {after:?}"
        );
        (socket, grew[0])
    }

    /// The sockets each fan-out node holds open, by its own metrics.
    pub async fn open_sockets(&self) -> Vec<f64> {
        let mut open = Vec::new();
        for node in &self.fanouts {
            let metrics = node.app.metrics().await;
            open.push(sample(&metrics, "chat_ws_connections", &[]).unwrap_or(0.0));
        }
        open
    }

    /// How many messages each command API has accepted, by its own metrics.
    pub async fn posts_accepted(&self) -> Vec<f64> {
        let posted = [
            ("route", "/rooms/{room_id}/messages"),
            ("method", "POST"),
            ("status", "201"),
        ];
        let mut accepted = Vec::new();
        for node in &self.command_apis {
            let metrics = node.app.metrics().await;
            accepted.push(sample(&metrics, "chat_http_requests_total", &posted).unwrap_or(0.0));
        }
        accepted
    }

    /// Caddy's log, to read after a failure.
    pub fn proxy_log(&self) -> String {
        self.caddy.log_so_far().join("\n")
    }
}

/// The addresses Caddy dials for `nodes`.
fn upstreams(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|node| node.app.address.trim_start_matches("http://").to_owned())
        .collect()
}
