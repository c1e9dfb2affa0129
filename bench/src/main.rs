//! Benchmark scenarios, run by name: `cargo run --release -p bench -- projection [--quick]`
//! (`projection-live` and `projection-rebuild` run one half of it).
//! Every figure is printed beside a baseline measured in the same run.

mod scenarios;

use anyhow::bail;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Quiet unless asked (`RUST_LOG=projector=debug,bus=debug` shows every batch).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let names: Vec<&String> = args.iter().filter(|arg| !arg.starts_with("--")).collect();
    if names.is_empty() {
        bail!("name a scenario to run: projection (or projection-live, projection-rebuild)");
    }
    for name in names {
        match name.as_str() {
            "projection" => scenarios::projection::run(quick, true, true).await?,
            "projection-live" => scenarios::projection::run(quick, true, false).await?,
            "projection-rebuild" => scenarios::projection::run(quick, false, true).await?,
            other => bail!(
                "unknown scenario {other:?}; known: projection, projection-live, projection-rebuild"
            ),
        }
    }
    Ok(())
}
