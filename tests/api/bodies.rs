//! What a request body that cannot be used is told, on every route that reads one: JSON that does not parse is
//! called invalid with its line and column; a field of the wrong type is named with the type it should have.

use rocket::http::Method;

use crate::helpers::{TestApp, assert_error};

#[rocket::async_test]
async fn invalid_json_is_called_invalid_with_where_it_broke() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let routes = [
        (Method::Post, "/api/v1/admin/websites".to_owned()),
        (Method::Put, format!("/api/v1/admin/websites/{site}")),
        (Method::Post, "/api/v1/admin/access-tokens".to_owned()),
        (Method::Post, format!("/api/v1/admin/websites/{site}/apikeys")),
        (Method::Post, format!("/api/v1/admin/websites/{site}/team")),
        (Method::Post, format!("/api/v1/payments?websiteId={site}")),
        (Method::Post, format!("/api/v1/goals?websiteId={site}")),
        (Method::Post, format!("/api/v1/identify?websiteId={site}")),
    ];
    for (method, path) in routes {
        let reply =
            app.send(method, &path, Some(&token), Some("{\"name\": \"shop\",\n \"domain\": example.com}")).await;
        assert_error(&reply, 400, "Request body is not valid JSON: expected value at line 2 column 12");
    }
}

#[rocket::async_test]
async fn a_field_of_the_wrong_type_is_named_with_the_type_it_should_have() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let admin = "/api/v1/admin";
    let cases = [
        (
            Method::Post,
            format!("{admin}/websites"),
            r#"{"domain": 5, "timezone": "UTC"}"#,
            "Invalid request body: domain: invalid type: integer `5`, expected a string",
        ),
        (
            Method::Put,
            format!("{admin}/websites/{site}"),
            r#"{"timezone": ["UTC"]}"#,
            "Invalid request body: timezone: invalid type: sequence, expected a string",
        ),
        (
            Method::Post,
            format!("{admin}/access-tokens"),
            r#"{"permissions": "analytics:read"}"#,
            "Invalid request body: permissions: invalid type: string \"analytics:read\", expected a sequence",
        ),
        (
            Method::Post,
            format!("{admin}/access-tokens"),
            r#"{"permissions": ["analytics:read", 7]}"#,
            "Invalid request body: permissions[1]: invalid type: integer `7`, expected a string",
        ),
        (
            Method::Post,
            format!("{admin}/websites/{site}/apikeys"),
            r#"{"name": true}"#,
            "Invalid request body: name: invalid type: boolean `true`, expected a string",
        ),
        (
            Method::Post,
            format!("{admin}/websites/{site}/team"),
            r#"{"email": {"address": "a@example.com"}}"#,
            "Invalid request body: email: invalid type: map, expected a string",
        ),
        (
            Method::Delete,
            format!("{admin}/websites/{site}/team"),
            r#"{"userId": 12}"#,
            "Invalid request body: userId: invalid type: integer `12`, expected a string",
        ),
        (
            Method::Post,
            format!("/api/v1/payments?websiteId={site}"),
            r#"{"amount": "29.99", "currency": "USD", "transaction_id": "t1"}"#,
            "amount must be a number of at least 0 in major units (e.g. 29.99), not a string",
        ),
        (
            Method::Post,
            format!("/api/v1/payments?websiteId={site}"),
            r#"{"amount": 29.99, "currency": "USD", "transaction_id": "t1", "renewal": "no"}"#,
            "renewal must be true or false, not a string",
        ),
        (
            Method::Post,
            format!("/api/v1/goals?websiteId={site}"),
            r#"{"datafast_visitor_id": 42, "name": "signup"}"#,
            "datafast_visitor_id must be a string, not a number",
        ),
        (
            Method::Post,
            format!("/api/v1/goals?websiteId={site}"),
            r#"{"datafast_visitor_id": "v1", "name": "signup", "metadata": ["plan"]}"#,
            "metadata must be an object of strings, not an array",
        ),
        (
            Method::Post,
            format!("/api/v1/identify?websiteId={site}"),
            r#"{"datafast_visitor_id": "v1", "user_id": 7}"#,
            "user_id must be a string, not a number",
        ),
    ];
    for (method, path, body, message) in cases {
        let reply = app.send(method, &path, Some(&token), Some(body)).await;
        assert_error(&reply, 400, message);
    }
}
