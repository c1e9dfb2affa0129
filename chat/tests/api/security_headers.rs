//! Every answer tells browsers not to sniff, frame or leak it; the two pages the server serves
//! run under a policy that allows only what each loads.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn every_answer_carries_nosniff_a_referrer_policy_and_no_framing() {
    let app = spawn_app().await;
    let token = app.user("alice").await;
    let answers = [
        app.get("/rooms/", None).await,
        app.get("/users/me", None).await,
        app.get("/rooms/not-a-uuid", None).await,
        app.post_json("/rooms/", Some(&token), &json!({"name": ""}))
            .await,
        app.get("/no/such/page", None).await,
        app.get("/openapi.json", None).await,
        app.get("/docs/", None).await,
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/rooms/"))
            .header("origin", "https://elsewhere.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap(),
    ];
    for answer in answers {
        let headers = answer.headers();
        assert_eq!(
            headers["x-content-type-options"],
            "nosniff",
            "{}",
            answer.url()
        );
        assert_eq!(
            headers["referrer-policy"],
            "no-referrer",
            "{}",
            answer.url()
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{}", answer.url());
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }
}

#[tokio::test]
async fn swagger_ui_is_served_under_a_policy_that_allows_exactly_what_it_loads() {
    let app = spawn_app().await;
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self';"),
        "no inline or foreign script: {policy}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>"),
        "Swagger UI's page has no inline script"
    );
    // What the page loads is served from this origin, so the policy lets it render.
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(html.contains(asset), "{asset}");
        let served = app.get(&format!("/docs/{asset}"), None).await;
        assert_eq!(served.status(), StatusCode::OK, "{asset}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/openapi.json"),
        "it loads the spec from this origin"
    );
}

#[tokio::test]
async fn the_web_client_is_served_under_a_policy_of_its_own_origin() {
    let web = std::env::temp_dir().join(format!("chat-web-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><div id=root></div>").unwrap();
    let app = spawn_app_with(&["--web-dir", web.to_str().unwrap()]).await;
    let page = app.get("/room/abc", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    std::fs::remove_dir_all(&web).unwrap();
}

#[tokio::test]
async fn an_unknown_path_under_any_api_prefix_is_a_json_404_never_the_web_page() {
    let web = std::env::temp_dir().join(format!("chat-web-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><div id=root></div>").unwrap();
    let app = spawn_app_with(&["--web-dir", web.to_str().unwrap()]).await;
    for path in [
        "/auth/nope",
        "/auth/logout/extra",
        "/users/me/nope",
        "/users/me/password/extra",
        "/audit/nope",
        "/audit/reads/extra",
        "/rooms/a/b/c",
        "/ws",
        "/docs/nope.js",
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let answer = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            let status = answer.status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
            let body = answer.text().await.unwrap();
            if status == StatusCode::NOT_FOUND && !path.starts_with("/docs") {
                let json: serde_json::Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {body}"));
                assert!(json["code"].is_string(), "{method} {path}: {body}");
            }
            assert!(
                !body.contains("<div id=root>"),
                "{method} {path} served the web page"
            );
        }
    }
    std::fs::remove_dir_all(&web).unwrap();
}
