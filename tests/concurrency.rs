//! Many connects and disconnects on many websites at once, over real HTTP from several threads,
//! end consistent: no 5xx, every stored key opens under its website, and each website's final
//! state is the last change its audit log records.

#[path = "support/helpers.rs"]
mod helpers;
#[path = "support/stripe_fake.rs"]
mod stripe_fake;

use std::net::TcpListener;
use std::time::Duration;

use secrecy::ExposeSecret;

use revlink::crypto::Sealed;
use revlink::db::{credentials, users, websites};
use revlink::domain::Actor;
use revlink::domain::{ObjectId, PermissionSet};
use revlink::service::App;

const SITES: usize = 12;
const ROUNDS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_connects_and_disconnects_end_consistent() {
    // Arrange: a real server on a free port, against the Stripe fake.
    let fake = stripe_fake::StripeFake::start().await;
    fake.healthy(true, &[(100, "usd")]).await;
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Some 60 connects in flight at once, each verifying with eight calls to the fake: on a loaded machine one of
    // them can take longer than the 1 s the other tests allow, and this test is about consistency, not timeouts.
    let figment = helpers::test_figment(&dir, &fake.url())
        .merge(("port", port))
        .merge(("address", "127.0.0.1"))
        .merge(("stripe_timeout_secs", 10));
    let rocket = revlink::build(figment).unwrap().ignite().await.unwrap();
    let shutdown = rocket.shutdown();
    let state_db = rocket.state::<App>().unwrap().db.clone();
    let master_key = rocket.state::<App>().unwrap().stripe_keys.clone();
    let server = tokio::spawn(rocket.launch());

    let (token, sites) = state_db
        .with_conn(|c| {
            let owner = users::create(c, "owner@example.com", None, None)?;
            let sites: Vec<ObjectId> = (0..SITES)
                .map(|i| {
                    let new = revlink::domain::website::NewWebsite {
                        domain: format!("s{i}.example.com"),
                        name: None,
                        timezone: "UTC".into(),
                    };
                    websites::create(c, &owner, &new, &Actor::cli()).map(|w| w.website_id)
                })
                .collect::<Result<_, _>>()?;
            let token = credentials::create_access_token(c, &owner, None, &PermissionSet::all(), &[], &Actor::cli())?;
            Ok((token.key.unwrap(), sites))
        })
        .unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1/admin/websites");
    for _ in 0..50 {
        if http.get(format!("http://127.0.0.1:{port}/api/v1/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Act: every website gets interleaved connects and disconnects, all in flight at once.
    let mut tasks = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        for round in 0..ROUNDS {
            let (http, url, token) = (http.clone(), format!("{base}/{site}/integrations/stripe"), token.clone());
            let connect = (i + round) % 3 != 0;
            tasks.push(tokio::spawn(async move {
                let req = if connect {
                    let key = format!("rk_live_51Concurrent{round:02}Site{i:02}Abcdef");
                    http.post(&url).bearer_auth(&token).json(&serde_json::json!({ "stripeRak": key }))
                } else {
                    http.delete(&url).bearer_auth(&token)
                };
                let res = req.send().await.expect("answered");
                (connect, res.status().as_u16(), res.text().await.unwrap())
            }));
        }
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }

    // Assert
    let mut successes = 0;
    for (connect, status, body) in &outcomes {
        assert!(*status < 500, "{status}: {body}");
        if *connect {
            assert_eq!(*status, 200, "{body}");
        } else {
            assert!(*status == 200 || (*status == 404 && body.contains("Stripe is not connected")), "{status}: {body}");
        }
        successes += usize::from(*status == 200);
    }
    state_db
        .with_conn(|c| {
            let audited: i64 = c.query_row("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'stripe.%'", [], |r| r.get(0))?;
            assert_eq!(usize::try_from(audited).unwrap(), successes, "one audit entry per successful change");
            for site in &sites {
                let last: String = c.query_row(
                    "SELECT action FROM audit_log WHERE website_id = ?1 AND action LIKE 'stripe.%' ORDER BY id DESC LIMIT 1",
                    [site],
                    |r| r.get(0),
                )?;
                let row = c
                    .query_row("SELECT nonce, ciphertext FROM stripe_connections WHERE website_id = ?1", [site], |r| {
                        Ok(Sealed { nonce: r.get(0)?, ciphertext: r.get(1)? })
                    })
                    .ok();
                match row {
                    Some(sealed) => {
                        assert_ne!(last, "stripe.disconnect", "{site}");
                        let key = master_key.open(site, &sealed).expect("opens under its own website");
                        assert!(key.expose_secret().starts_with("rk_live_51Concurrent"));
                    }
                    None => assert_eq!(last, "stripe.disconnect", "{site}"),
                }
            }
            Ok(())
        })
        .unwrap();
    println!("{} requests, {successes} changes, no 5xx", outcomes.len());
    shutdown.notify();
    let _ = server.await;
}
