use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

const COMMITTED: &str = include_str!("../../../openapi/openapi.json");

/// The committed spec is what integrators read; it must be exactly what the code serves.
/// `make openapi` rewrites it after an intended change.
#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = spawn_app().await;
    let served = app.get_json("/openapi.json", None).await;
    let committed: Value = serde_json::from_str(COMMITTED).unwrap();
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    );
    let document = chat::openapi::document_json();
    assert_eq!(serde_json::from_str::<Value>(&document).unwrap(), committed);
}

#[tokio::test]
async fn swagger_ui_is_served_offline_at_docs() {
    let app = spawn_app().await;
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
}
