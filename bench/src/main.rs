use clap::Parser;

// The server's allocator: S5 runs the projector and `chat rebuild` in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run by the WebSocket scenarios as a child process of this binary, so that its memory is read
/// alone: `bench serve-ws-baseline <address>`.
const WS_BASELINE: &str = "serve-ws-baseline";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, command, listen] = args.as_slice() {
        if command == WS_BASELINE {
            return bench::scenarios::ws_baseline::serve(listen).await;
        }
    }
    bench::log_warnings();
    bench::run(bench::Args::parse()).await
}
