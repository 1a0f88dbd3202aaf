//! The ceiling revlink's routes are measured against (bench/http.sh, bench/mixed.sh): a minimal Rocket 0.5
//! binary with one JSON route, `GET /` answering `{"ok":true}`, on 127.0.0.1.
//!
//! `cargo run --release --example bare_rocket -- 12112`. Nothing of revlink is mounted and no fairing is
//! attached (Rocket's own default Shield headers stay, as in any Rocket app); logging is off, and the
//! configuration is built here, so neither Rocket.toml nor ROCKET_* variables change it.

use std::net::Ipv4Addr;

use rocket::config::{LogLevel, SecretKey};
use rocket::serde::json::{Json, Value, json};
use rocket::{Config, get, routes};

#[get("/")]
fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

#[rocket::main]
async fn main() -> Result<(), Box<rocket::Error>> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(12112);
    let config = Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port,
        log_level: LogLevel::Off,
        // A release profile wants a key once `secrets` is on (revlink enables it); this route never uses it.
        secret_key: SecretKey::generate().expect("the system's random source"),
        ..Config::release_default()
    };
    rocket::custom(config).mount("/", routes![ok]).launch().await?;
    Ok(())
}
