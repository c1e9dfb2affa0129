//! One attempt at one delivery: the HTTP client, which connects only to addresses the guard
//! admitted, follows no redirect and uses no proxy, and what came of the attempt.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use url::Host;

use crate::guard::AllowList;
use crate::signature::sign;

/// A refusal by the guard, told apart from the client's own errors by its type.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
struct Refused(String);

/// Resolves a host name and keeps only the addresses the guard admits: the client connects to
/// exactly those, with no second lookup in between that could answer differently.
struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = Arc::clone(&self.allow);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusals = Vec::new();
            let mut admitted = Vec::new();
            for address in resolved {
                match allow.check(&host, address.ip()) {
                    Ok(()) => admitted.push(address),
                    Err(why) => refusals.push(why),
                }
            }
            if admitted.is_empty() {
                let why = if refusals.is_empty() {
                    format!("{host} resolves to no address")
                } else {
                    format!("{host} resolves to {}", refusals.join("; "))
                };
                return Err(Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(admitted.into_iter()) as Addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The status the endpoint answered, if it answered.
    pub status_code: Option<u16>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    pub(crate) fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Sends deliveries. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Sender {
    client: reqwest::Client,
    allow: Arc<AllowList>,
}

/// One delivery's request.
pub(crate) struct Request<'a> {
    pub url: &'a str,
    pub webhook_id: &'a str,
    pub key: &'a [u8],
    pub body: &'a str,
}

impl Sender {
    pub(crate) fn new(allow: AllowList, timeout: Duration) -> Self {
        let allow = Arc::new(allow);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: Arc::clone(&allow),
            }))
            .redirect(Policy::none())
            // HTTP_PROXY and friends would connect somewhere the guard never saw.
            .no_proxy()
            // A pooled connection would skip the lookup, and with it the check, of later
            // deliveries: each one resolves and connects afresh.
            .pool_max_idle_per_host(0)
            .timeout(timeout)
            .user_agent(concat!("chat-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Self { client, allow }
    }

    /// POSTs the body, signed now.
    pub(crate) async fn attempt(&self, request: Request<'_>) -> Outcome {
        let started = Instant::now();
        let finished = |status_code, error| Outcome {
            status_code,
            error,
            duration: started.elapsed(),
        };
        // An address in the URL is never looked up, so it is checked here.
        if let Err(why) = self.check_literal(request.url) {
            return finished(None, Some(format!("refused: {why}")));
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(
            request.key,
            request.webhook_id,
            timestamp,
            request.body.as_bytes(),
        );
        let sent = self
            .client
            .post(request.url)
            .header("content-type", "application/json")
            .header("webhook-id", request.webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(request.body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let error = if status.is_success() {
                    None
                } else if status.is_redirection() {
                    Some(format!("answered {status}: redirects are not followed"))
                } else {
                    Some(format!("answered {status}"))
                };
                finished(Some(status.as_u16()), error)
            }
            Err(error) => finished(None, Some(describe(&error))),
        }
    }

    fn check_literal(&self, url: &str) -> Result<(), String> {
        let url = url::Url::parse(url).map_err(|error| format!("bad url: {error}"))?;
        match url.host() {
            Some(Host::Ipv4(address)) => self.allow.check(&address.to_string(), address.into()),
            Some(Host::Ipv6(address)) => self.allow.check(&address.to_string(), address.into()),
            Some(Host::Domain(_)) => Ok(()),
            None => Err("the url names no host".into()),
        }
    }
}

/// The guard's refusal as it is, any other failure with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return "timed out".into();
    }
    api_kit::Chain(error).to_string()
}
