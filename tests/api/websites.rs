//! `/websites`: create, list, get and update (contract §3), and what a website key lists.

use rocket::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, is_id};

const ADMIN: &str = "/api/v1/admin";

#[rocket::async_test]
async fn websites_create_list_get_update() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let token = app.full_token(&owner);

    let created = app
        .send(
            Method::Post,
            &format!("{ADMIN}/websites"),
            Some(&token),
            Some(r#"{"domain":"Shop.Example.com","timezone":"Europe/Berlin","name":"Shop"}"#),
        )
        .await;
    assert_eq!(created.status.code, 200, "{}", created.body);
    let data = &created.body["data"][0];
    assert!(is_id(&data["websiteId"]));
    assert_eq!(data["domain"], "shop.example.com");
    assert!(data["trackingId"].as_str().unwrap().starts_with("dfid_"));
    let id = data["websiteId"].as_str().unwrap().to_owned();

    let dup = app
        .send(
            Method::Post,
            &format!("{ADMIN}/websites"),
            Some(&token),
            Some(r#"{"domain":"shop.example.com","timezone":"UTC"}"#),
        )
        .await;
    assert_error(&dup, 409, "A website with domain shop.example.com already exists on your account");
    let bad_tz = app
        .send(
            Method::Post,
            &format!("{ADMIN}/websites"),
            Some(&token),
            Some(r#"{"domain":"a.com","timezone":"Mars/Base"}"#),
        )
        .await;
    assert_error(&bad_tz, 400, "Invalid timezone: \"Mars/Base\" is not an IANA time zone name (e.g. America/New_York)");
    let missing =
        app.send(Method::Post, &format!("{ADMIN}/websites"), Some(&token), Some(r#"{"timezone":"UTC"}"#)).await;
    assert_error(&missing, 400, "Invalid request body: missing field `domain`");

    let list = app.get(&format!("{ADMIN}/websites"), &token).await;
    let expected = json!({"_id": id, "domain": "shop.example.com", "name": "Shop", "trackingId": data["trackingId"],
        "timezone": "Europe/Berlin", "currency": "USD", "role": "owner"});
    assert_eq!(list.body["data"], json!([expected]));

    let updated = app
        .send(
            Method::Put,
            &format!("{ADMIN}/websites/{id}"),
            Some(&token),
            Some(r#"{"currency":"eur","name":null,"timezone":"UTC"}"#),
        )
        .await;
    let site = &updated.body["data"][0];
    assert_eq!(
        (site["currency"].as_str(), site["timezone"].as_str(), site["name"].is_null()),
        (Some("EUR"), Some("UTC"), true)
    );
    let unknown =
        app.send(Method::Put, &format!("{ADMIN}/websites/{id}"), Some(&token), Some(r#"{"domian":"x.com"}"#)).await;
    assert_eq!(unknown.status.code, 400);
    assert!(unknown.message().contains("unknown field `domian`"), "{}", unknown.message());
    let bad_currency =
        app.send(Method::Put, &format!("{ADMIN}/websites/{id}"), Some(&token), Some(r#"{"currency":"EURO"}"#)).await;
    assert_error(
        &bad_currency,
        400,
        "Invalid currency: \"EURO\" is not the ISO 4217 code of a circulating currency (e.g. USD)",
    );
    // A website always has a domain, time zone and currency: null is refused, not ignored.
    for field in ["domain", "timezone", "currency"] {
        let body = format!(r#"{{"{field}":null,"name":"Shop"}}"#);
        let null = app.send(Method::Put, &format!("{ADMIN}/websites/{id}"), Some(&token), Some(&body)).await;
        assert_eq!(null.status.code, 400, "{field}");
        assert!(null.message().contains("expected a string"), "{field}: {}", null.message());
    }
    let bad_id = app.get(&format!("{ADMIN}/websites/not-an-id"), &token).await;
    assert_error(&bad_id, 400, "Invalid websiteId");
}

#[rocket::async_test]
async fn a_website_key_lists_only_its_own_website_at_member_level() {
    let app = TestApp::new().await;
    let (owner, site, _) = app.owner_with_site();
    app.website(&owner, "second.example.com");
    let key = app.website_key(&site);
    let list = app.get(&format!("{ADMIN}/websites"), &key).await;
    let data = list.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!((data[0]["_id"].as_str(), data[0]["role"].as_str()), (Some(site.as_str()), Some("member")));
}
