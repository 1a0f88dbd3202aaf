//! The authorization matrix (contract §2): every route × every kind of credential, permission,
//! allowlist and role, each cell asserting the exact status and message.

use rocket::http::Method;

use crate::helpers::{TestApp, assert_error};
use revlink::domain::access::PERMISSIONS;
use revlink::domain::{ObjectId, Role};

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    /// `/access-tokens`, `POST /websites`: dft_ only.
    Account,
    /// `GET /websites`: any credential, filtered.
    List,
    /// `/websites/{id}/...`.
    Website,
}

struct Route {
    method: Method,
    path: &'static str,
    permission: &'static str,
    owner_only: bool,
    scope: Scope,
    /// A body whose answer, once authorized, is deterministic and leaves no state behind.
    body: Option<&'static str>,
    /// The authorized answer: status and message (empty for 200).
    ok: (u16, &'static str),
}

const NO_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";

#[allow(clippy::too_many_lines)] // one line per route of the API: a table
fn routes() -> Vec<Route> {
    use Method::*;
    use Scope::*;
    let r = |method, path, permission, owner_only, scope, body, ok| Route {
        method,
        path,
        permission,
        owner_only,
        scope,
        body,
        ok,
    };
    vec![
        r(Get, "/websites", "websites:read", false, List, None, (200, "")),
        r(
            Post,
            "/websites",
            "websites:write",
            false,
            Account,
            Some(r#"{"domain":"https://x.com","timezone":"UTC"}"#),
            (400, "Invalid domain: give the domain without a scheme (example.com, not https://example.com)"),
        ),
        r(Get, "/websites/{w}", "settings:read", false, Website, None, (200, "")),
        r(
            Put,
            "/websites/{w}",
            "settings:write",
            false,
            Website,
            Some("{}"),
            (400, "Nothing to update: send any of domain, name, timezone, currency, revenueMetric"),
        ),
        r(
            Delete,
            "/websites/{w}",
            "websites:write",
            true,
            Website,
            None,
            (
                403,
                "Website deletion cannot be done programmatically. Please delete this website from the revlink settings pages.",
            ),
        ),
        r(Get, "/access-tokens", "api-keys:read", false, Account, None, (200, "")),
        r(
            Post,
            "/access-tokens",
            "api-keys:write",
            false,
            Account,
            Some(r#"{"permissions":["nope"]}"#),
            (
                400,
                "Unknown permission: nope. Use \"*\" or any of: analytics:read, goals:read, goals:write, payments:read, payments:write, identify:write, websites:read, websites:write, settings:read, settings:write, funnels:read, funnels:write, alerts:read, alerts:write, team:read, team:write, api-keys:read, api-keys:write",
            ),
        ),
        r(Delete, "/access-tokens/{none}", "api-keys:write", false, Account, None, (404, "Access token not found")),
        r(Get, "/websites/{w}/apikeys", "api-keys:read", false, Website, None, (200, "")),
        r(
            Post,
            "/websites/{w}/apikeys",
            "api-keys:write",
            false,
            Website,
            Some(r#"{"name":5}"#),
            (400, "Invalid request body: name: invalid type: integer `5`, expected a string"),
        ),
        r(Put, "/websites/{w}/apikeys/{none}", "api-keys:write", false, Website, None, (404, "API key not found")),
        r(Delete, "/websites/{w}/apikeys/{none}", "api-keys:write", false, Website, None, (404, "API key not found")),
        r(Get, "/websites/{w}/team", "team:read", false, Website, None, (200, "")),
        r(
            Post,
            "/websites/{w}/team",
            "team:write",
            true,
            Website,
            Some(r#"{"email":"not-an-email"}"#),
            (400, "Invalid email address: \"not-an-email\""),
        ),
        r(
            Delete,
            "/websites/{w}/team",
            "team:write",
            true,
            Website,
            Some(r#"{"userId":"nope"}"#),
            (400, "Invalid userId"),
        ),
        r(Get, "/websites/{w}/integrations", "settings:read", false, Website, None, (200, "")),
        r(
            Post,
            "/websites/{w}/integrations/stripe",
            "settings:write",
            false,
            Website,
            Some(r#"{"stripeRak":"sk_live_0123456789"}"#),
            (400, "Invalid key format (must start with rk_)"),
        ),
        r(
            Delete,
            "/websites/{w}/integrations/stripe",
            "settings:write",
            false,
            Website,
            None,
            (404, "Stripe is not connected"),
        ),
        r(Get, "/websites/{w}/integrations/stripe", "settings:read", false, Website, None, (200, "")),
        r(
            Post,
            "/websites/{w}/integrations/stripe/sync",
            "settings:write",
            false,
            Website,
            None,
            (404, "Stripe is not connected"),
        ),
        r(Get, "/websites/{w}/payments", "payments:read", false, Website, None, (200, "")),
        r(Get, "/websites/{w}/revenue", "analytics:read", false, Website, None, (200, "")),
        r(
            Post,
            "/api/v1/payments?websiteId={w}",
            "payments:write",
            false,
            Website,
            Some(r#"{"currency":"USD"}"#),
            (400, "amount is required: a number of at least 0 in major units (e.g. 29.99)"),
        ),
        r(
            Delete,
            "/api/v1/payments?websiteId={w}&transaction_id=none",
            "payments:write",
            false,
            Website,
            None,
            (404, "Payment not found"),
        ),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Allow {
    All,
    This,
    Other,
}

#[derive(Clone, Copy, Debug)]
enum Cred {
    None,
    Revoked,
    KeyThis,
    KeyOther,
    Token { permitted: bool, allow: Allow, role: Option<Role> },
}

#[allow(clippy::match_same_arms)] // the matrix reads row by row, like the contract's table
fn expected(route: &Route, cred: Cred) -> (u16, String) {
    let ok = (route.ok.0, route.ok.1.to_owned());
    let lacks = (403, format!("This token lacks the {} permission", route.permission));
    match (cred, route.scope) {
        (Cred::None, _) => (401, "Missing bearer token".into()),
        (Cred::Revoked, _) => (401, "Invalid token".into()),
        (Cred::KeyThis | Cred::KeyOther, Scope::Account) => {
            (403, "Called with a df_ website key; this route needs a dft_ account token".into())
        }
        (Cred::KeyThis | Cred::KeyOther, Scope::List) => ok,
        (Cred::KeyOther, Scope::Website) => (403, "This API key belongs to another website".into()),
        (Cred::KeyThis, Scope::Website) if route.owner_only => {
            (403, "Website API keys act at member level; this needs the owner's dft_ account token".into())
        }
        (Cred::KeyThis, Scope::Website) => ok,
        (Cred::Token { permitted: false, .. }, _) => lacks,
        (Cred::Token { .. }, Scope::Account | Scope::List) => ok,
        (Cred::Token { allow: Allow::Other, .. }, Scope::Website) => {
            (403, "This token is not allowed to access this website".into())
        }
        (Cred::Token { role: None, .. }, Scope::Website) => (404, "Website not found".into()),
        (Cred::Token { role: Some(role), .. }, Scope::Website) => {
            let read = route.permission.ends_with(":read");
            match role {
                Role::Owner => ok,
                _ if route.owner_only => (403, format!("Only the website's owner can do this (your role: {role})")),
                Role::Viewer if !read => (403, "Your role on this website (viewer) can only read".into()),
                _ => ok,
            }
        }
    }
}

#[rocket::async_test]
async fn every_route_enforces_the_contract_rule() {
    // Arrange: one website with an owner, a member and a viewer; an outsider with a website of
    // their own that everyone can see (the "other" website of allowlists and keys).
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let member = app.user("member@example.com");
    let viewer = app.user("viewer@example.com");
    let outsider = app.user("outsider@example.com");
    let site = app.website(&owner, "shop.example.com");
    let other = app.website(&outsider, "other.example.com");
    app.member(&site, &member, Role::Member);
    app.member(&site, &viewer, Role::Viewer);
    for u in [&owner, &member, &viewer] {
        app.member(&other, u, Role::Viewer);
    }
    let key_this = app.website_key(&site);
    let key_other = app.website_key(&other);
    let revoked = app.full_token(&owner);
    app.state().db.with_conn(|c| Ok(c.execute("DELETE FROM access_tokens", [])?)).unwrap();

    let people: [(Option<Role>, &ObjectId); 4] =
        [(Some(Role::Owner), &owner), (Some(Role::Member), &member), (Some(Role::Viewer), &viewer), (None, &outsider)];

    let mut cells = 0;
    for route in routes() {
        let path = route.path.replace("{w}", site.as_str()).replace("{none}", NO_ID);
        // The Website API (`/api/v1/payments`) names the website in the query; the rest is admin API.
        let path = if path.starts_with("/api/") { path } else { format!("/api/v1/admin{path}") };
        let mut creds: Vec<(Cred, Option<String>)> = vec![
            (Cred::None, None),
            (Cred::Revoked, Some(revoked.clone())),
            (Cred::KeyThis, Some(key_this.clone())),
            (Cred::KeyOther, Some(key_other.clone())),
        ];
        for (role, user) in people {
            for permitted in [true, false] {
                let perms: Vec<&str> = if permitted {
                    vec![route.permission]
                } else {
                    PERMISSIONS.iter().copied().filter(|p| *p != route.permission).collect()
                };
                for allow in [Allow::All, Allow::This, Allow::Other] {
                    let list = match allow {
                        Allow::All => vec![],
                        Allow::This if role.is_some() => vec![site.clone()],
                        // The outsider is no member of `site`, so it cannot be in their allowlist.
                        Allow::This => continue,
                        Allow::Other => vec![other.clone()],
                    };
                    creds.push((Cred::Token { permitted, allow, role }, Some(app.token(user, &perms, &list))));
                }
            }
        }

        for (cred, bearer) in &creds {
            // Act
            let reply = app.send(route.method, &path, bearer.as_deref(), route.body).await;
            // Assert
            let (status, message) = expected(&route, *cred);
            if status == 200 {
                assert_eq!(reply.status.code, 200, "{} {path} with {cred:?}: {}", route.method, reply.body);
                assert_eq!(reply.body["status"], "success");
                assert!(reply.body["data"].is_array());
            } else {
                assert_error(&reply, status, &message);
            }
            cells += 1;
        }
        app.state().db.with_conn(|c| Ok(c.execute("DELETE FROM access_tokens", [])?)).unwrap();
    }
    println!("authorization matrix: {cells} cells checked");
    assert!(cells >= 22 * 26, "{cells}");
}
