//! How failures answer outside `/api`: a page for a browser, the JSON envelope for a client that prefers JSON,
//! 405 with `Allow` for a path asked with a method it does not answer; and the page a fresh install shows
//! instead of the setup form, with its button that prints a new link to the server's output.

use rocket::http::{Accept, ContentType, Header, Method, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::Value;

use crate::browser::{location, text};
use crate::helpers::TestApp;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn ask<'c>(app: &'c TestApp, method: Method, path: &str, accept: Option<&str>) -> LocalResponse<'c> {
    let mut req = app.client.req(method, path.to_owned());
    if let Some(accept) = accept {
        req.add_header(Header::new("Accept", accept.to_owned()));
    }
    req.dispatch().await
}

async fn envelope(res: LocalResponse<'_>) -> Value {
    assert_eq!(res.content_type(), Some(ContentType::JSON));
    let body = text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

async fn html(res: LocalResponse<'_>) -> String {
    assert_eq!(res.content_type(), Some(ContentType::HTML));
    let body = text(res).await;
    assert!(body.starts_with("<!doctype html>"), "{body}");
    body
}

#[rocket::async_test]
async fn errors_are_pages_for_browsers_and_json_for_clients_that_prefer_it() {
    let app = TestApp::new().await;
    let (_owner, site, _token) = app.owner_with_site();

    for accept in [Some(BROWSER), None, Some("*/*"), Some("application/json;q=0.5, text/html")] {
        let res = ask(&app, Method::Get, "/no/such/page", accept).await;
        assert_eq!(res.status(), Status::NotFound, "{accept:?}");
        assert!(html(res).await.contains("No route for GET &#x2F;no&#x2F;such&#x2F;page"), "{accept:?}");
    }
    let res = ask(&app, Method::Get, "/no/such/page", Some("application/json")).await;
    assert_eq!(res.status(), Status::NotFound);
    let v = envelope(res).await;
    assert_eq!((v["status"].as_str(), v["error"]["code"].as_u64()), (Some("error"), Some(404)));

    // `/metrics` refused (no loopback peer here) answers as any unknown path does: a page to a browser.
    let res = ask(&app, Method::Get, "/metrics", Some(BROWSER)).await;
    assert_eq!(res.status(), Status::NotFound);
    assert!(!html(res).await.contains("\"error\""), "no JSON inside the page");
    let res = ask(&app, Method::Get, "/metrics", Some("application/json")).await;
    assert_eq!(envelope(res).await["error"]["message"], "No route for GET /metrics");

    // The Dashboard's script polls with Accept: application/json; logged out, it is told so in JSON.
    let live = format!("/websites/{site}/dashboard/live");
    let res = ask(&app, Method::Get, &live, Some("application/json")).await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(envelope(res).await["error"]["code"], 401);
    let res = ask(&app, Method::Get, &live, Some(BROWSER)).await;
    assert_eq!(
        (res.status(), location(&res)),
        (Status::SeeOther, format!("/login?next=%2Fwebsites%2F{site}%2Fdashboard%2Flive"))
    );

    // The API keeps its envelope whatever the client accepts.
    let res = ask(&app, Method::Get, "/api/v1/nothing", Some(BROWSER)).await;
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(envelope(res).await["error"]["code"], 404);
}

#[rocket::async_test]
async fn a_page_path_asked_with_another_method_is_a_405_naming_the_methods_it_answers() {
    let app = TestApp::new().await;
    let (_owner, site, _token) = app.owner_with_site();

    let res = ask(&app, Method::Get, "/logout", Some(BROWSER)).await;
    assert_eq!(res.status(), Status::MethodNotAllowed);
    assert_eq!(res.headers().get_one("Allow"), Some("POST"));
    assert!(html(res).await.contains("This path does not answer GET; it answers POST"), "the page says which");

    let res = ask(&app, Method::Delete, &format!("/websites/{site}"), Some(BROWSER)).await;
    assert_eq!(res.status(), Status::MethodNotAllowed);
    assert_eq!(res.headers().get_one("Allow"), Some("GET, HEAD, POST"));

    let res = ask(&app, Method::Put, "/static/style.css", Some("application/json")).await;
    assert_eq!(res.status(), Status::MethodNotAllowed);
    assert_eq!(res.headers().get_one("Allow"), Some("GET, HEAD"));
    assert_eq!(envelope(res).await["error"]["code"], 405);

    // A path nothing answers stays a 404, and a right method still works.
    assert_eq!(ask(&app, Method::Delete, "/nothing/here", Some(BROWSER)).await.status(), Status::NotFound);
    assert_eq!(ask(&app, Method::Get, "/static/style.css", Some(BROWSER)).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn a_fresh_install_explains_where_the_setup_link_is_and_prints_a_new_one_on_request() {
    let app = TestApp::new().await;
    let first = app.state().setup.code().expect("the link printed at start");

    let home = ask(&app, Method::Get, "/", Some(BROWSER)).await;
    assert_eq!((home.status(), location(&home)), (Status::SeeOther, "/setup".into()));
    let res = ask(&app, Method::Get, "/setup", Some(BROWSER)).await;
    assert_eq!(res.status(), Status::Ok);
    let page = html(res).await;
    assert!(page.contains("printed to its own output") && page.contains("journalctl"), "{page}");
    assert!(page.contains("action=\"/setup/link\""), "the button that prints a new link");
    assert!(!page.contains(&first), "the code is never shown");

    let wrong = ask(&app, Method::Get, "/setup?code=guess", Some(BROWSER)).await;
    assert_eq!(wrong.status(), Status::Forbidden);
    let page = html(wrong).await;
    assert!(page.contains("This setup link is not valid") && page.contains("action=\"/setup/link\""));

    let asked = app.client.post("/setup/link").header(Accept::HTML).dispatch().await;
    assert_eq!((asked.status(), location(&asked)), (Status::SeeOther, "/setup".into()));
    let cookies: Vec<String> = asked.headers().get("Set-Cookie").map(str::to_owned).collect();
    let fresh = app.state().setup.code().expect("a fresh code");
    assert_ne!(fresh, first);
    assert!(cookies.iter().all(|c| !c.contains(&fresh) && !c.contains(&first)), "no code in a cookie");
    assert!(text(asked).await.is_empty(), "nor in the answer");
    let page = text(app.client.get("/setup").dispatch().await).await;
    assert!(page.contains("A fresh setup link was printed to the server&#x27;s output"), "{page}");
    assert!(!page.contains(&fresh) && !page.contains(&first));
    for code in [&first, &fresh] {
        let form = app.client.get(format!("/setup?code={code}")).dispatch().await;
        assert!(text(form).await.contains("Create account and website"), "earlier links keep working");
    }

    // Three a minute, whoever asks: the fourth is told to wait, and nothing new is printed.
    app.client.post("/setup/link").dispatch().await;
    app.client.post("/setup/link").dispatch().await;
    let third = app.state().setup.code();
    let refused = app.client.post("/setup/link").dispatch().await;
    assert_eq!(location(&refused), "/setup");
    assert_eq!(app.state().setup.code(), third, "no new code past the limit");
    assert!(text(app.client.get("/setup").dispatch().await).await.contains("printed moments ago"));

    // Another site's form cannot ask.
    let forged = app.client.post("/setup/link").header(Header::new("Sec-Fetch-Site", "cross-site")).dispatch().await;
    assert_eq!(forged.status(), Status::Forbidden);
}

#[rocket::async_test]
async fn once_set_up_the_setup_pages_send_people_to_log_in() {
    let app = TestApp::new().await;
    app.user("me@example.com");
    let res = app.client.get("/setup").dispatch().await;
    assert_eq!((res.status(), location(&res)), (Status::SeeOther, "/login".into()));
    let before = app.state().setup.code();
    let res = app.client.post("/setup/link").dispatch().await;
    assert_eq!((res.status(), location(&res)), (Status::SeeOther, "/login".into()));
    assert_eq!(app.state().setup.code(), before, "nothing printed once an account exists");
}
