//! `/access-tokens` (`dft_`): shown once, never wider than their creator, deleted at once, at most twenty.

use rocket::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

const ADMIN: &str = "/api/v1/admin";

#[rocket::async_test]
async fn access_tokens_are_shown_once_and_never_exceed_their_creator() {
    let app = TestApp::new().await;
    let (owner, site, token) = app.owner_with_site();

    let created = app
        .send(
            Method::Post,
            &format!("{ADMIN}/access-tokens"),
            Some(&token),
            Some(
                &json!({"name":"Read only","permissions":["analytics:read","websites:read"],"websiteIds":[site]})
                    .to_string(),
            ),
        )
        .await;
    let t = &created.body["data"][0];
    let raw = t["key"].as_str().unwrap();
    assert!(raw.starts_with("dft_") && raw.len() >= 4 + 27, "at least 160 bits of base62");
    assert_eq!(t["displayKey"], format!("{}...{}", &raw[..7], &raw[raw.len() - 4..]));
    assert_eq!((t["scope"].as_str(), t["name"].as_str()), (Some("user"), Some("Read only")));
    assert_eq!(t["permissions"], json!(["analytics:read", "websites:read"]));
    assert_eq!(t["websiteIds"], json!([site]));
    assert!(t["lastUsedAt"].is_null() && t["createdAt"].as_str().unwrap().ends_with('Z'));

    // The raw value works, and is never listed again.
    let list = app.get(&format!("{ADMIN}/websites"), raw).await;
    assert_eq!(list.status.code, 200);
    let tokens = app.get(&format!("{ADMIN}/access-tokens"), &token).await;
    assert!(!tokens.body.to_string().contains(raw));
    assert_eq!(tokens.body["data"].as_array().unwrap().len(), 2);
    assert!(tokens.body["data"].as_array().unwrap().iter().any(|t| t["lastUsedAt"].is_string()), "use is recorded");

    // A narrower token cannot mint a wider one.
    let narrow = app.token(&owner, &["api-keys:write"], std::slice::from_ref(&site));
    let wider = app
        .send(
            Method::Post,
            &format!("{ADMIN}/access-tokens"),
            Some(&narrow),
            Some(r#"{"permissions":["*"],"websiteIds":[]}"#),
        )
        .await;
    assert_error(&wider, 403, "A token cannot grant permissions that the token creating it lacks");
    let outside = app
        .send(
            Method::Post,
            &format!("{ADMIN}/access-tokens"),
            Some(&narrow),
            Some(r#"{"permissions":["api-keys:write"]}"#),
        )
        .await;
    assert_error(
        &outside,
        403,
        "A token cannot reach websites outside the allowlist of the token creating it; list websiteIds within it",
    );

    // Deleting kills the token at once; someone else's token is 404.
    let id = t["_id"].as_str().unwrap();
    let other_user = app.user("other@example.com");
    let other_token = app.full_token(&other_user);
    let foreign = app.send(Method::Delete, &format!("{ADMIN}/access-tokens/{id}"), Some(&other_token), None).await;
    assert_error(&foreign, 404, "Access token not found");
    let deleted = app.send(Method::Delete, &format!("{ADMIN}/access-tokens/{id}"), Some(&token), None).await;
    assert_eq!(deleted.body["data"][0]["message"], "Access token deleted successfully");
    assert_error(&app.get(&format!("{ADMIN}/websites"), raw).await, 401, "Invalid token");
}

#[rocket::async_test]
async fn at_most_twenty_tokens_per_user() {
    let app = TestApp::new().await;
    let (owner, _, token) = app.owner_with_site();
    for _ in 0..19 {
        app.full_token(&owner);
    }
    let over = app.send(Method::Post, &format!("{ADMIN}/access-tokens"), Some(&token), Some("{}")).await;
    assert_error(&over, 400, "Token limit reached: at most 20 access tokens per user; delete one first");
}

#[rocket::async_test]
async fn a_website_that_is_not_yours_is_refused() {
    let app = TestApp::new().await;
    let (_, _, token) = app.owner_with_site();
    let stranger = app.user("stranger@example.com");
    let theirs = app.website(&stranger, "theirs.example.com");
    let body = format!(r#"{{"websiteIds":["{theirs}"]}}"#);
    let refused = app.send(Method::Post, &format!("{ADMIN}/access-tokens"), Some(&token), Some(&body)).await;
    assert_error(&refused, 400, &format!("websiteIds: {theirs} is not one of your websites"));
    let unknown = r#"{"websiteIds":["665f0b3c4d2e1a0012345678"]}"#;
    let refused = app.send(Method::Post, &format!("{ADMIN}/access-tokens"), Some(&token), Some(unknown)).await;
    assert_eq!(refused.status.code, 400);
}
