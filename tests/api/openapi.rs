//! The OpenAPI document is generated from the handlers and covers every mounted route.

use rocket::http::Method;

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
