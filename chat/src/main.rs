use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = chat::run(chat::Cli::parse()).await;
    if let Err(error) = &outcome {
        eprintln!("Error: {error:?}");
    }
    chat::exit_code(&outcome)
}
