use crate::helpers::{mixed, System};

#[tokio::test]
async fn a_projector_aborted_mid_batch_and_replaced_leaves_every_row_once() {
    let system = System::new().await;
    let shape = mixed(3000);
    system.seed(&shape).await;
    let _relay = system.start_relay();
    let first = system.start_projector();
    // Abort as soon as something was applied: the backlog is far from done.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while system.count("SELECT count(*) FROM messages").await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "nothing projected");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    first.abort();
    let projected_at_crash = system.count("SELECT count(*) FROM messages").await;
    assert!(projected_at_crash < shape.messages as i64, "it was mid-way");
    let _second = system.start_projector();
    system.fully_projected().await;
    assert_eq!(
        system.count("SELECT count(*) FROM messages").await,
        shape.messages as i64
    );
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}
