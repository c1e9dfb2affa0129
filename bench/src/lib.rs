//! The benchmark harness: starts the system (or targets a given one), runs scenarios, and
//! reports every figure beside a baseline measured in the same run, because absolute numbers on
//! a shared machine drift.

mod report;
pub mod scenarios;
mod system;
mod usage;

use report::Layout;
pub use report::{Figure, Goal, ScenarioReport};
pub use system::Target;
pub use usage::Usage;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Logs to stderr what the roles this process runs itself warn of (S5 runs the relay, the
/// projector and `chat rebuild` in it), so that a figure gone wrong shows its cause beside it.
/// `RUST_LOG` refines the default `warn`; colours only on a terminal, since runs are often
/// kept in files.
pub fn log_warnings() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Run the chat server's benchmark scenarios")]
pub struct Args {
    /// Scenarios to run (`all` for every one): S1 (live latency), S2 (the write path, also
    /// `write-path`), S3 (fan-out), S4 (idle sockets), S5 (live projection and rebuild, also
    /// `projection`), S6 (history paging), S7 (a reconnect storm), S8 (fast senders, also
    /// `fast-senders`), S9 (the event feed's Server-Sent Events, also `feed`), S10 (the rooms
    /// list with unread counts, also `unread`), S11 (full-text search, also `search`). Or `faults`
    /// alone: faults under load on the roles as separate processes, results in RELIABILITY.md;
    /// it exits non-zero when a fault broke a promise.
    #[arg(required = true)]
    pub scenarios: Vec<String>,
    /// A tenth of the size, for a quick check that everything still runs.
    #[arg(long)]
    pub quick: bool,
    /// Benchmark a running system at this URL instead of starting one.
    #[arg(long, requires = "database_url")]
    pub url: Option<String>,
    /// The database of the system given with `--url`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the results section is written: BENCHMARKS.md, or RELIABILITY.md for `faults`.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Where the run's JSON is written.
    #[arg(long, default_value = "bench/results")]
    pub results_dir: PathBuf,
}

const SCENARIOS: [&str; 11] = [
    "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11",
];

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args
        .scenarios
        .iter()
        .any(|s| s.eq_ignore_ascii_case("faults"))
    {
        return faults(&args).await;
    }
    let wanted: Vec<String> = if args.scenarios.iter().any(|s| s.eq_ignore_ascii_case("all")) {
        SCENARIOS.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios.iter().map(|s| s.to_uppercase()).collect()
    };
    let mut reports = Vec::new();
    for scenario in &wanted {
        if scenario == "S5" || scenario == "PROJECTION" {
            // It runs the relay and projector in this process, on databases of its own.
            for report in scenarios::projection::run(args.quick).await? {
                report.print();
                reports.push(report);
            }
            continue;
        }
        // Each scenario gets a fresh system, so one's data never slows the next.
        let system = match (&args.url, &args.database_url) {
            (Some(url), Some(database_url)) => system::System::given(url, database_url),
            _ => system::System::start().await?,
        };
        let target = system.target();
        let before = target.pid.map(Usage::of).transpose()?;
        let mut report = match scenario.as_str() {
            "S1" => scenarios::fanout_latency::run(target, args.quick).await?,
            "S3" => scenarios::fanout_throughput::run(target, args.quick).await?,
            "S4" => scenarios::idle_sockets::run(target, args.quick).await?,
            "S2" | "WRITE-PATH" => scenarios::write_path::run(target, args.quick).await?,
            "S6" => scenarios::history::run(target, args.quick).await?,
            "S7" => scenarios::reconnect_storm::run(target, args.quick).await?,
            "S8" | "FAST-SENDERS" => scenarios::fast_senders::run(target, args.quick).await?,
            "S9" | "FEED" => scenarios::feed_streams::run(target, args.quick).await?,
            "S10" | "UNREAD" => scenarios::unread::run(target, args.quick).await?,
            "S11" | "SEARCH" => scenarios::search::run(target, args.quick).await?,
            other => bail!(
                "unknown scenario {other:?}; known: {}",
                SCENARIOS.join(", ")
            ),
        };
        if let (Some(pid), Some(before)) = (target.pid, before) {
            report.add_usage("server", Usage::of(pid)?.since(before));
        }
        report.print();
        reports.push(report);
        system.stop().await?;
    }
    let markdown = args.markdown.clone().unwrap_or("BENCHMARKS.md".into());
    report::save(&reports, &args, &markdown, Layout::TablePerReport)?;
    Ok(())
}

/// `bench faults`: it starts a cluster of its own, so it runs alone.
async fn faults(args: &Args) -> anyhow::Result<()> {
    if args.scenarios.len() > 1 || args.url.is_some() {
        bail!("`faults` runs alone, on processes it starts itself");
    }
    let reports = scenarios::faults::run(args.quick).await?;
    let markdown = args.markdown.clone().unwrap_or("RELIABILITY.md".into());
    report::save(&reports, args, &markdown, Layout::RowPerReport)?;
    scenarios::faults::check(&reports)
}
