//! The OpenAPI document is generated from the handlers and covers every mounted route.

use rocket::http::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[rocket::async_test]
async fn documents_every_mounted_route() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for route in app.client.rocket().routes().filter(|r| r.uri.base().starts_with("/api")) {
        // Rocket writes `<name>`, OpenAPI `{name}`.
        let path = route.uri.path().replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_ascii_lowercase();
        let entry = paths.get(&path).unwrap_or_else(|| panic!("{path} is not documented"));
        assert!(entry.get(&method).is_some(), "{method} {path} is not documented");
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
    let connect = &paths["/api/v1/admin/websites/{website_id}/integrations/stripe"]["post"];
    assert!(connect["requestBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

const ID_PATTERN: &str = "^[0-9a-f]{24}$";

/// Follows a `$ref` within the document (`#/components/...`).
fn resolve<'a>(doc: &'a Value, item: &'a Value) -> &'a Value {
    match item["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} does not resolve")))
        }
        None => item,
    }
}

/// Every operation of the document, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.to_ascii_uppercase(), path.clone(), operation));
        }
    }
    all
}

/// Whether a response's JSON schema is the error envelope.
fn is_envelope(doc: &Value, response: &Value) -> bool {
    let schema = resolve(doc, &resolve(doc, response)["content"]["application/json"]["schema"]);
    let required = |v: &Value| v["required"].as_array().cloned().unwrap_or_default();
    schema["properties"]["status"]["enum"] == json!(["error"])
        && required(schema).contains(&json!("status"))
        && required(schema).contains(&json!("error"))
        && schema["properties"]["error"]["properties"]["code"]["type"] == "integer"
        && schema["properties"]["error"]["properties"]["message"]["type"] == "string"
        && required(&schema["properties"]["error"]) == vec![json!("code"), json!("message")]
}

#[rocket::async_test]
async fn every_authenticated_operation_documents_its_errors_with_the_envelope() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    let open = ["GET /api/v1/health", "GET /api/v1/openapi.json"];
    // The tracking script's endpoint takes no credential, but refuses what does not fit its website; Stripe's
    // webhook deliveries are authenticated by their signature, not a credential.
    let tracking = ["POST /api/events", "OPTIONS /api/events", "POST /api/v1/webhooks/stripe/{website_id}"];
    for (method, path, operation) in operations(&doc) {
        let name = format!("{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        if open.contains(&name.as_str()) {
            // No credential, nothing to refuse: the only failure would be Rocket's own.
            assert!(operation.get("security").is_none(), "{name} is open");
            continue;
        }
        if tracking.contains(&name.as_str()) {
            assert!(operation.get("security").is_none(), "{name} takes no credential");
            let errors: Vec<&String> = responses.keys().filter(|s| s.starts_with('4') || s.starts_with('5')).collect();
            assert!(errors.len() >= 3, "{name}: {errors:?}");
            for status in errors {
                assert!(is_envelope(&doc, &responses[status]), "{name} {status} is not the envelope");
            }
            continue;
        }
        assert_eq!(operation["security"], json!([{"bearer": []}]), "{name}");
        let errors: Vec<&String> = responses.keys().filter(|s| s.starts_with('4') || s.starts_with('5')).collect();
        assert!(errors.iter().any(|s| s.starts_with('4')), "{name} lists no 4xx");
        for status in errors {
            assert!(is_envelope(&doc, &responses[status]), "{name} {status} is not the envelope");
        }
        // Every credentialed route can be refused these, whatever it does.
        for status in ["401", "403", "429", "500", "503"] {
            assert!(responses.contains_key(status), "{name} lacks {status}");
        }
        let has_body = operation.get("requestBody").is_some();
        for status in ["413", "415"] {
            assert_eq!(responses.contains_key(status), has_body, "{name}: {status} iff it reads a body");
        }
        if path.contains("{website_id}") || path == "/api/v1/payments" {
            assert!(responses.contains_key("400") && responses.contains_key("404"), "{name} is website-scoped");
        }
    }
    let events = &doc["paths"]["/api/events"]["post"]["responses"];
    for status in ["200", "400", "403", "404", "413", "415", "429", "500", "503"] {
        assert!(events.get(status).is_some(), "POST /api/events lacks {status}");
    }
    let connect = &doc["paths"]["/api/v1/admin/websites/{website_id}/integrations/stripe"]["post"]["responses"];
    for status in ["502", "503", "504"] {
        assert!(connect.get(status).is_some(), "connect lacks {status}");
    }
    let retry = &resolve(&doc, &connect["503"])["headers"]["Retry-After"];
    assert!(retry.is_object(), "503 names Retry-After");
}

#[rocket::async_test]
async fn ids_in_paths_and_bodies_are_24_lowercase_hex() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    let mut ids = 0;
    for (method, path, operation) in operations(&doc) {
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            let found: Vec<&Value> = parameters.iter().filter(|p| p["name"] == name && p["in"] == "path").collect();
            assert_eq!(found.len(), 1, "{method} {path}: {name} documented once");
            assert_eq!(found[0]["required"], true);
            assert!(name.ends_with("_id"), "{name}");
            // A visitor id is the script's (a UUID, or the merchant's own), not one of revlink's ids.
            let pattern = if name == "datafast_visitor_id" { "^[A-Za-z0-9._:-]{1,128}$" } else { ID_PATTERN };
            assert_eq!(found[0]["schema"]["pattern"], pattern, "{method} {path}: {name}");
            ids += 1;
        }
        for parameter in parameters.iter().filter(|p| p["name"] == "websiteId") {
            assert_eq!(parameter["in"], "query");
            assert_eq!(parameter["required"], false, "{method} {path}: a df_ key names its own website");
            assert_eq!(parameter["schema"]["pattern"], ID_PATTERN);
        }
    }
    assert!(ids >= 20, "{ids}");
    for (method, path) in [("POST", "/api/v1/payments"), ("DELETE", "/api/v1/payments")] {
        let operation = &doc["paths"][path][method.to_ascii_lowercase()];
        let names: Vec<&Value> = operation["parameters"].as_array().unwrap().iter().map(|p| &p["name"]).collect();
        assert!(names.contains(&&json!("websiteId")), "{method} {path} documents websiteId");
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Remove"]["properties"]["userId"]["pattern"], ID_PATTERN);
    assert_eq!(schemas["CreateAccessToken"]["properties"]["websiteIds"]["items"]["pattern"], ID_PATTERN);
}

#[rocket::async_test]
async fn query_parameters_have_their_types() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    let parameter = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["in"] == "query")
            .unwrap_or_else(|| panic!("{method} {path} ?{name}"))["schema"]
            .clone()
    };
    let limit = parameter("/api/v1/admin/websites/{website_id}/payments", "get", "limit");
    assert_eq!(
        (limit["type"].as_str(), limit["minimum"].as_u64(), limit["maximum"].as_u64()),
        (Some("integer"), Some(1), Some(100))
    );
    for name in ["start", "end"] {
        assert_eq!(parameter("/api/v1/admin/websites/{website_id}/revenue", "get", name)["format"], "date");
        assert_eq!(parameter("/api/v1/payments", "delete", name)["format"], "date-time");
    }
}

#[rocket::async_test]
async fn request_bodies_are_required_exactly_when_the_handler_needs_one() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    // (method, path, Some(required) for a body, None for no body at all)
    let expected = [
        ("post", "/api/v1/admin/websites", Some(true)),
        ("put", "/api/v1/admin/websites/{website_id}", Some(true)),
        ("post", "/api/v1/admin/access-tokens", Some(true)),
        ("post", "/api/v1/admin/websites/{website_id}/apikeys", Some(false)),
        ("put", "/api/v1/admin/websites/{website_id}/apikeys/{api_key_id}", None),
        ("post", "/api/v1/admin/websites/{website_id}/team", Some(true)),
        ("delete", "/api/v1/admin/websites/{website_id}/team", Some(true)),
        ("post", "/api/v1/admin/websites/{website_id}/integrations/stripe", Some(true)),
        ("post", "/api/v1/admin/websites/{website_id}/integrations/stripe/sync", None),
        ("post", "/api/v1/payments", Some(true)),
        ("delete", "/api/v1/payments", None),
        ("post", "/api/events", Some(true)),
        ("options", "/api/events", None),
    ];
    for (method, path, want) in expected {
        let body = &doc["paths"][path][method]["requestBody"];
        let got = body.is_object().then(|| body["required"].as_bool().unwrap_or(false));
        assert_eq!(got, want, "{method} {path}");
    }
    // And the table holds: an empty body creates a key; an empty body to create a token is a 400.
    let (_, site, token) = app.owner_with_site();
    let auth = Some(token.as_str());
    let key = app.send(Method::Post, &format!("/api/v1/admin/websites/{site}/apikeys"), auth, None).await;
    assert_eq!(key.status.code, 200, "{:?}", key.body);
    let tokens = app.send(Method::Post, "/api/v1/admin/access-tokens", auth, None).await;
    assert_eq!(tokens.status.code, 400, "{:?}", tokens.body);
}
