use std::process::ExitCode;

use clap::Parser;

// Under 64 clients posting at once, glibc's malloc and free took a sixth of the server's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = chat::run(chat::Cli::parse()).await;
    if let Err(error) = &outcome {
        eprintln!("Error: {error:?}");
    }
    chat::exit_code(&outcome)
}
