//! Direct rooms on the deployed layout: `POST /users/{username}/dm` reaches a command API through
//! the proxy, and openings racing on both command APIs, processes of their own with aggregate
//! caches of their own, make one room per pair.

use serde_json::Value;

use super::bots_and_the_feed_through_the_proxy::answered;
use super::Topology;
use crate::direct_messages::one_room_of;
use crate::processes::Node;

#[tokio::test]
async fn openings_racing_on_two_command_apis_make_one_room_and_the_proxy_routes_them_there() {
    let topology = Topology::start().await;
    let app = &topology.app;
    let (first, second) = (&topology.command_apis[0].app, &topology.command_apis[1].app);
    let rounds = 5;
    for round in 0..rounds {
        let (ann, ben) = (format!("ann{round}"), format!("ben{round}"));
        let ann_token = app.user(&ann).await;
        let ben_token = app.user(&ben).await;
        let openings = [
            first.open_dm(&ann_token, &ben),
            second.open_dm(&ben_token, &ann),
            second.open_dm(&ann_token, &ben.to_uppercase()),
            first.open_dm(&ben_token, &ann),
            app.open_dm(&ann_token, &ben),
        ];
        let room = one_room_of(app, openings).await;
        let listed = app.get_json("/users/me/rooms", Some(&ben_token)).await;
        assert_eq!(listed[0]["id"], room.as_str());
        assert_eq!(
            (&listed[0]["name"], &listed[0]["kind"]),
            (&Value::from(ann), &Value::from("direct"))
        );
    }
    let command_apis: Vec<&Node> = topology.command_apis.iter().collect();
    let opened = [("/users/{username}/dm", "POST", "200")];
    assert_eq!(
        answered(&command_apis, &opened).await,
        f64::from(rounds * 5),
        "every opening, the proxy's too, was answered by a command API"
    );
}
