//! `chat probe URL`: a container's healthcheck, in an image that has no curl.

use std::time::Duration;

use anyhow::{bail, Context};

/// How much of a failed answer's body is repeated.
const SAY_AT_MOST: usize = 500;

/// GETs `url`; succeeds on a 2xx answer within `timeout`, fails (exit status 1) otherwise,
/// saying why.
pub async fn probe(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let url = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("{url} is not an http:// URL");
    }
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("building an HTTP client")?;
    let response = client
        .get(url.clone())
        .send()
        .await
        .with_context(|| format!("GET {url} (waiting at most {timeout:?})"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let said: String = body.chars().take(SAY_AT_MOST).collect();
        bail!("GET {url} answered {status}: {said}");
    }
    println!("GET {url}: {status}");
    Ok(())
}
