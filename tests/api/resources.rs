//! Websites, access tokens, website keys and team: shapes, rules and conflicts of contract §3.

use rocket::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use revlink::domain::Role;

const ADMIN: &str = "/api/v1/admin";

fn is_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

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
    assert_error(&bad_currency, 400, "Invalid currency: \"EURO\" is not an ISO 4217 code (e.g. USD)");
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

    for _ in 0..9 {
        app.website_key(&site);
    }
    let over = app.send(Method::Post, &base, Some(&token), Some("{}")).await;
    assert_error(&over, 400, "Key limit reached");
}

#[rocket::async_test]
async fn team_invite_list_remove() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let base = format!("{ADMIN}/websites/{site}/team");
    let member = app.user("member@example.com");
    app.member(&site, &member, Role::Member);
    let member_token = app.full_token(&member);
    assert_eq!(app.get(&base, &member_token).await.status.code, 200);

    let listed = app.get(&base, &token).await;
    let people = listed.body["data"].as_array().unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0]["email"], "owner@example.com");
    assert_eq!(people[0]["role"], "owner");
    for field in ["userId", "name", "email", "image", "role", "joinedAt"] {
        assert!(people[1].get(field).is_some(), "{field}");
    }

    let invited = app.send(Method::Post, &base, Some(&token), Some(r#"{"email":"  New@Example.com "}"#)).await;
    let inv = &invited.body["data"][0];
    assert_eq!((inv["email"].as_str(), inv["role"].as_str()), (Some("new@example.com"), Some("viewer")));
    assert_eq!(inv["message"], "Invitation created. Send the invite link to the user.");
    assert!(is_id(&inv["invitationId"]));
    assert!(inv["inviteUrl"].as_str().unwrap().starts_with("http://127.0.0.1:8000/invite/"));
    let again =
        app.send(Method::Post, &base, Some(&token), Some(r#"{"email":"new@example.com","role":"member"}"#)).await;
    assert_error(&again, 409, "new@example.com already has a pending invitation to this website");
    let existing = app.send(Method::Post, &base, Some(&token), Some(r#"{"email":"member@example.com"}"#)).await;
    assert_error(&existing, 409, "member@example.com is already a member of this website");
    let me = app.send(Method::Post, &base, Some(&token), Some(r#"{"email":"owner@example.com"}"#)).await;
    assert_error(&me, 400, "You cannot invite yourself");
    let as_owner =
        app.send(Method::Post, &base, Some(&token), Some(r#"{"email":"x@example.com","role":"owner"}"#)).await;
    assert_error(&as_owner, 400, "Invalid role \"owner\": use viewer or member");

    let owner_id = people[0]["userId"].as_str().unwrap();
    let remove_self =
        app.send(Method::Delete, &base, Some(&token), Some(&json!({"userId": owner_id}).to_string())).await;
    assert_error(&remove_self, 400, "You cannot remove yourself from a website you own");
    let removed = app.send(Method::Delete, &base, Some(&token), Some(&json!({"userId": member}).to_string())).await;
    assert_eq!(removed.status.code, 200);
    assert_error(&app.get(&base, &member_token).await, 404, "Website not found");
    let gone = app.send(Method::Delete, &base, Some(&token), Some(&json!({"userId": member}).to_string())).await;
    assert_error(&gone, 404, "That user is not a member of this website");
    assert_eq!(app.get(&base, &token).await.body["data"].as_array().unwrap().len(), 1);
}
