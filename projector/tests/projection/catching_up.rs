use crate::helpers::{mixed, System};

#[tokio::test]
async fn a_projector_started_after_events_were_written_catches_up_from_the_store_alone() {
    // No relay runs: nothing reaches the bus, so only the store can tell the projector.
    let system = System::new().await;
    let shape = mixed(600);
    let history = system.seed(&shape).await;
    let _projector = system.start_projector();
    system.fully_projected().await;
    assert_eq!(
        system.count("SELECT count(*) FROM messages").await,
        shape.messages as i64
    );
    assert_eq!(
        system.count("SELECT count(*) FROM outbox").await,
        history.len() as i64,
        "the relay never ran"
    );
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[tokio::test]
async fn a_projector_that_was_down_catches_up_with_what_was_written_meanwhile() {
    let system = System::new().await;
    system.seed(&mixed(300)).await;
    let first = system.start_projector();
    system.fully_projected().await;
    first.abort();
    system.seed(&mixed(300)).await;
    let _second = system.start_projector();
    system.fully_projected().await;
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}
