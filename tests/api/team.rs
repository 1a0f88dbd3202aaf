//! `/websites/{id}/team`: list, invite and remove, with their conflicts.

use rocket::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, is_id};
use revlink::domain::Role;

const ADMIN: &str = "/api/v1/admin";

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
    let long = format!(r#"{{"email":"a@{}.com"}}"#, "b".repeat(251));
    let too_long = app.send(Method::Post, &base, Some(&token), Some(&long)).await;
    assert_error(&too_long, 400, "Invalid email address: at most 254 characters");

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
