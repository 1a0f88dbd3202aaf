//! What the page tests share: the app's client is one browser with one cookie jar; these read its
//! answers and fill its forms.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::helpers::TestApp;
use revlink::crypto::hash_password;
use revlink::db::users;
use revlink::domain::ObjectId;

pub const PASSWORD: &str = "correct horse battery";

pub fn location(res: &LocalResponse<'_>) -> String {
    res.headers().get_one("Location").unwrap_or_default().to_owned()
}

pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a csrf field") + 25;
    html[at..at + 64].to_owned()
}

pub async fn text(res: LocalResponse<'_>) -> String {
    res.into_string().await.unwrap_or_default()
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    pub fn user_with_password(&self, email: &str) -> ObjectId {
        let hash = hash_password(PASSWORD).unwrap();
        self.state().db.with_conn(|c| users::create(c, email, None, Some(&hash))).unwrap()
    }

    /// Logs the browser in; answers its CSRF token.
    pub async fn login(&self, email: &str) -> String {
        let res = self.post_login(&[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), Status::SeeOther, "login of {email}: {}", text(res).await);
        csrf_in(&text(self.client.get("/websites").dispatch().await).await)
    }

    /// Opens the login page (which gives the browser its login form token) and posts the form with it.
    pub async fn post_login(&self, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let html = text(self.client.get("/login").dispatch().await).await;
        let marker = "name=\"login_token\" value=\"";
        let at = html.find(marker).expect("a login token field") + marker.len();
        let token = html[at..at + 32].to_owned();
        let mut all = fields.to_vec();
        all.push(("login_token", &token));
        self.post_form("/login", &all).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        self.client.post(path.to_owned()).header(ContentType::Form).body(body.join("&")).dispatch().await
    }
}
