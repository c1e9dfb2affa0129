//! `cargo run --release -p bench -- <scenario> [--quick]`: runs a scenario of DESIGN.md §11 and
//! prints its figures beside a baseline measured in the same run.

mod scenarios;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "The chat server's benchmark scenarios")]
struct Args {
    #[command(subcommand)]
    scenario: Scenario,
    /// A short run, to check that a scenario still works.
    #[arg(long, global = true)]
    quick: bool,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// 10 rooms × 100 subscribers at 100 msg/s: send→receive latency.
    #[command(name = "S1", alias = "s1")]
    S1,
    /// 1 room × 1,000 subscribers: deliveries per second.
    #[command(name = "S3", alias = "s3")]
    S3 {
        /// Messages per second the senders offer.
        #[arg(long, default_value_t = 150.0)]
        rate: f64,
    },
    /// 15,000 idle sockets: memory per socket and connect rate.
    #[command(name = "S4", alias = "s4")]
    S4,
    /// (internal) `chat` in this process, for the scenarios' child processes.
    #[command(hide = true, name = "serve-chat")]
    ServeChat {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// (internal) the bare WebSocket broadcast server the scenarios compare with.
    #[command(hide = true, name = "serve-baseline")]
    ServeBaseline { listen: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.scenario {
        Scenario::S1 => scenarios::fanout_latency::run(args.quick).await,
        Scenario::S3 { rate } => scenarios::fanout_throughput::run(args.quick, rate).await,
        Scenario::S4 => scenarios::idle_sockets::run(args.quick).await,
        Scenario::ServeChat { args } => {
            let cli =
                <chat::Cli as Parser>::parse_from(std::iter::once("chat".to_owned()).chain(args));
            chat::run(cli).await
        }
        Scenario::ServeBaseline { listen } => scenarios::ws_baseline::serve(&listen).await,
    }
}
