//! `/websites/{id}/apikeys`, the website keys (`df_`): create, roll, delete and the per-website limit.

use rocket::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

const ADMIN: &str = "/api/v1/admin";

#[rocket::async_test]
async fn website_keys_create_roll_delete_and_limit() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let base = format!("{ADMIN}/websites/{site}/apikeys");

    let created = app.send(Method::Post, &base, Some(&token), Some(r#"{"name":"Production key"}"#)).await;
    let k = created.body["data"][0].clone();
    let raw = k["key"].as_str().unwrap().to_owned();
    assert!(raw.starts_with("df_"));
    assert_eq!(k["websiteId"], site.as_str());
    let without_body = app.send(Method::Post, &base, Some(&token), None).await;
    assert_eq!(without_body.status.code, 200, "name is optional: {}", without_body.body);
    assert!(without_body.body["data"][0]["name"].is_null());
    let null_body = app.send(Method::Post, &base, Some(&token), Some("null")).await;
    assert_eq!(null_body.status.code, 200, "a null body is no body: {}", null_body.body);
    let not_an_object = app.send(Method::Post, &base, Some(&token), Some("[]")).await;
    assert_error(&not_an_object, 400, "Request body must be a JSON object, not an array");

    let listed = app.get(&base, &token).await;
    assert!(!listed.body.to_string().contains(&raw), "list shows masked keys only");

    let id = k["_id"].as_str().unwrap();
    let rolled = app.send(Method::Put, &format!("{base}/{id}"), Some(&token), None).await;
    let new_raw = rolled.body["data"][0]["key"].as_str().unwrap().to_owned();
    assert_ne!(new_raw, raw);
    assert_error(&app.get(&base, &raw).await, 401, "Invalid token");
    assert_eq!(app.get(&base, &new_raw).await.status.code, 200);

    let deleted = app.send(Method::Delete, &format!("{base}/{id}"), Some(&token), None).await;
    assert_eq!(deleted.body, json!({"status":"success","data":[{"deleted":true}]}));
    assert_error(&app.get(&base, &new_raw).await, 401, "Invalid token");

    // Two made above remain (without a body, with a null one): eight more reach the limit of ten.
    for _ in 0..8 {
        app.website_key(&site);
    }
    let over = app.send(Method::Post, &base, Some(&token), Some("{}")).await;
    assert_error(&over, 400, "Key limit reached");
}
