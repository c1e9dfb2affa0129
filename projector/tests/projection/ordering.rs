use uuid::Uuid;

use crate::helpers::{room_story, System};

#[tokio::test]
async fn the_same_envelope_delivered_twice_is_applied_once() {
    let system = System::new().await;
    let _projector = system.start_live_projector().await;
    let room_id = Uuid::new_v4();
    let story = room_story(room_id);
    system.write(&story).await;
    let stored = system.stored(&room_id.to_string()).await;
    system.publish(&stored).await;
    system.publish(&stored[1..]).await;
    system
        .eventually(
            &format!("SELECT last_seq FROM rooms WHERE id = '{room_id}'"),
            3,
        )
        .await;
    // Give the duplicates time to arrive and be skipped.
    system
        .publish(&[crate::helpers::user_envelope("late")])
        .await;
    system
        .eventually("SELECT count(*) FROM users WHERE username = 'late'", 1)
        .await;
    assert_eq!(system.count("SELECT count(*) FROM messages").await, 1);
    assert_eq!(
        system
            .count(&format!(
                "SELECT member_count::bigint FROM rooms WHERE id = '{room_id}'"
            ))
            .await,
        1
    );
    assert_eq!(system.count("SELECT count(*) FROM room_members").await, 1);
}

#[tokio::test]
async fn sequence_three_before_two_still_leaves_the_tables_correct() {
    let system = System::new().await;
    let _projector = system.start_live_projector().await;
    let room_id = Uuid::new_v4();
    system.write(&room_story(room_id)).await;
    let stored = system.stored(&room_id.to_string()).await;
    // 1, then 3 (2 is read from the store), then 2 late (a duplicate by then).
    let shuffled = [stored[0].clone(), stored[2].clone(), stored[1].clone()];
    system.publish(&shuffled).await;
    system
        .eventually(
            &format!(
                "SELECT last_seq FROM projection_checkpoints WHERE aggregate_id = '{room_id}'"
            ),
            3,
        )
        .await;
    system
        .publish(&[crate::helpers::user_envelope("late")])
        .await;
    system
        .eventually("SELECT count(*) FROM users WHERE username = 'late'", 1)
        .await;
    let room: (i32, i64) = sqlx::query_as("SELECT member_count, last_seq FROM rooms WHERE id = $1")
        .bind(room_id)
        .fetch_one(&system.pool)
        .await
        .unwrap();
    assert_eq!(room, (1, 3));
    assert_eq!(system.count("SELECT count(*) FROM room_members").await, 1);
    assert_eq!(
        system
            .count("SELECT count(*) FROM messages WHERE seq = 3 AND content = 'hello'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_envelope_built_by_hand_matches_what_the_store_holds() {
    // The relay publishes rows of `events` as envelopes; the tests above publish them too.
    let system = System::new().await;
    let room_id = Uuid::new_v4();
    let story = room_story(room_id);
    system.write(&story).await;
    let stored = system.stored(&room_id.to_string()).await;
    for (stored, written) in stored.iter().zip(&story) {
        let expected = written.envelope(stored.position);
        assert_eq!(stored.payload, expected.payload);
        assert_eq!(stored.routing_key(), expected.routing_key());
    }
}
