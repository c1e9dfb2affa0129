//! The harness must not rot: one scenario, at a tenth of its size, against the real system
//! started in-process.

use clap::Parser;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_history_scenario_runs_end_to_end_and_reports() {
    let (database_url, _) = testkit::fresh_database().await;

    let mut args = vec!["chat", "all", "--database-url", &database_url];
    args.extend_from_slice(&testkit::CHAT_FLAGS);
    let cli = chat::Cli::parse_from(args);
    let settings = &cli.settings;
    let pool = settings.connect().await.unwrap();
    eventstore::MIGRATOR.run(&pool).await.unwrap();
    let pools = settings.pools().unwrap();
    let lifecycle = chat::Lifecycle::default();
    let roles = chat::Roles::of(&cli.command);
    let ops = chat::Ops::new(roles, &pools, settings).unwrap();
    let _workers = chat::spawn_workers(roles, &pools, settings, &ops, &lifecycle.shutdown).unwrap();
    let app = chat::build_app(&pools, settings, roles, &lifecycle, &ops)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(chat::serve(listener, app, std::future::pending()));

    let out = std::env::temp_dir().join(format!("bench-{}", Uuid::new_v4().simple()));
    let markdown = out.join("BENCHMARKS.md");
    bench::run(bench::Args {
        scenarios: vec!["S6".into()],
        quick: true,
        url: Some(url),
        database_url: Some(database_url),
        markdown: Some(markdown.clone()),
        results_dir: out.join("results"),
    })
    .await
    .unwrap();

    let written = std::fs::read_to_string(markdown).unwrap();
    assert!(written.contains("### S6"), "{written}");
    assert!(written.contains("server time p99"));
    let runs = std::fs::read_dir(out.join("results")).unwrap().count();
    assert_eq!(runs, 1, "one JSON file per run");
    lifecycle.shutdown.cancel();
}
