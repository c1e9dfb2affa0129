//! Benchmark scenarios, each run by name: `cargo run --release -p bench -- <scenario>`. Every
//! scenario prints its figures beside a baseline measured in the same run (DESIGN.md §11).

pub mod scenarios;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Benchmark scenarios for the chat server")]
pub struct Cli {
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Durable posts over HTTP: sequential, one hot room, many rooms, a long room (S2).
    WritePath(scenarios::write_path::Options),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.scenario {
        Scenario::WritePath(options) => scenarios::write_path::run(options).await,
    }
}
