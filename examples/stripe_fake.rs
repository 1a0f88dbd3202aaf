//! A standalone instant Stripe fake for benchmarks and manual trials: a healthy live-mode account
//! answering with Stripe's bodies. `cargo run --example stripe_fake -- 12111` listens on 127.0.0.1:12111.

#[path = "../tests/api/stripe_fake.rs"]
mod stripe_fake;

use std::net::TcpListener;

use wiremock::MockServer;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(12111);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    let server = MockServer::builder().listener(listener).disable_request_recording().start().await;
    let fake = stripe_fake::StripeFake { server };
    fake.healthy(true, &[(125_000, "usd")]).await;
    println!("Stripe fake on {}", fake.url());
    tokio::signal::ctrl_c().await.ok();
}
