use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    chat::run(chat::Cli::parse()).await
}
