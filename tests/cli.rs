//! The admin commands, run as the real binary against a temp data directory, and the start-up
//! refusal when the master key cannot open the stored secrets.

#[path = "support/binary.rs"]
mod binary;

use std::path::Path;

use secrecy::ExposeSecret;

use revlink::crypto::MasterKey;
use revlink::db::stripe::{self, NewConnection};
use revlink::domain::Actor;
use revlink::domain::ObjectId;

use binary::{ok_json, revlink};

const RK: &str = "rk_live_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3";

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = revlink(dir, args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(out.stdout.is_empty(), "nothing on stdout when failing");
    String::from_utf8(out.stderr).unwrap()
}

/// Stores a sealed Stripe key for `website` with the library, as a connect would.
fn store_secret(dir: &Path, website: &str) {
    let figment = revlink::config::figment().merge(("data_dir", dir.join("data")));
    let rt = revlink::Runtime::open(&figment).unwrap();
    let site = ObjectId::parse(website).unwrap();
    let conn = NewConnection {
        sealed: rt.stripe_keys.seal(&site, RK),
        livemode: true,
        display_key: "rk_live_...vWe3".into(),
        currency: "USD".into(),
    };
    rt.db.with_conn(|c| stripe::connect(c, &site, &conn, &Actor::cli())).unwrap();
}

#[test]
fn admin_commands_create_what_the_api_serves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pw"), "correct horse battery\n").unwrap();

    let user = ok_json(d, &["user", "create", "--email", "Ann@Example.com", "--name", "Ann", "--password-file", "pw"]);
    assert_eq!(user["userId"].as_str().unwrap().len(), 24);
    let site = ok_json(
        d,
        &[
            "website",
            "create",
            "--owner",
            "ann@example.com",
            "--domain",
            "shop.example.com",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    let website_id = site["websiteId"].as_str().unwrap().to_owned();
    assert!(site["trackingId"].as_str().unwrap().starts_with("dfid_"));
    ok_json(d, &["user", "create", "--email", "bob@example.com"]);
    let member =
        ok_json(d, &["member", "add", "--website", &website_id, "--email", "bob@example.com", "--role", "viewer"]);
    assert_eq!(member["role"], "viewer");

    let token = ok_json(
        d,
        &[
            "token",
            "create",
            "--email",
            "ann@example.com",
            "--name",
            "ci",
            "--permissions",
            "settings:read,websites:read",
            "--websites",
            &website_id,
        ],
    );
    assert!(token["key"].as_str().unwrap().starts_with("dft_"));
    assert_eq!(token["permissions"], serde_json::json!(["settings:read", "websites:read"]));
    assert_eq!(token["websiteIds"], serde_json::json!([website_id]));
    assert_eq!(token["scope"], "user");
    let key = ok_json(d, &["apikey", "create", "--website", &website_id, "--name", "prod"]);
    assert!(key["key"].as_str().unwrap().starts_with("df_"));
    assert_eq!(key["websiteId"], website_id.as_str());

    // Bad input: a clear message on stderr, a non-zero exit, nothing written.
    assert!(fails(d, &["user", "create", "--email", "ann@example.com"]).contains("already exists"));
    assert!(
        fails(d, &["website", "create", "--owner", "nobody@example.com", "--domain", "x.com"])
            .contains("No user with email nobody@example.com")
    );
    assert!(
        fails(d, &["website", "create", "--owner", "ann@example.com", "--domain", "https://x.com"])
            .contains("without a scheme")
    );
    assert!(
        fails(d, &["token", "create", "--email", "ann@example.com", "--permissions", "everything"])
            .contains("Unknown permission: everything")
    );
    assert!(fails(d, &["apikey", "create", "--website", "nope"]).contains("--website must be a 24-character"));
    assert!(
        fails(d, &["member", "add", "--website", &website_id, "--email", "bob@example.com", "--role", "member"])
            .contains("already a member")
    );
    std::fs::write(d.join("short"), "short\n").unwrap();
    assert!(
        fails(d, &["user", "create", "--email", "c@example.com", "--password-file", "short"]).contains("at least 8")
    );
}

#[test]
fn rotate_master_key_reencrypts_every_secret_and_installs_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_json(d, &["user", "create", "--email", "ann@example.com"]);
    let sites: Vec<String> = (0..3)
        .map(|i| {
            let s = ok_json(
                d,
                &["website", "create", "--owner", "ann@example.com", "--domain", &format!("s{i}.example.com")],
            );
            s["websiteId"].as_str().unwrap().to_owned()
        })
        .collect();
    for s in &sites {
        store_secret(d, s);
    }
    let old_hex = std::fs::read_to_string(d.join("data/master.key")).unwrap();
    let new_hex = MasterKey::generate_hex();
    std::fs::write(d.join("new.key"), &new_hex).unwrap();

    let out = ok_json(d, &["rotate-master-key", "--new-key-file", "new.key"]);
    assert_eq!((out["reencrypted"].as_u64(), out["keyVersion"].as_u64()), (Some(3), Some(2)));

    assert_eq!(std::fs::read_to_string(d.join("data/master.key")).unwrap().trim(), new_hex);
    assert!(!d.join("data/master.key.new").exists());
    let figment = revlink::config::figment().merge(("data_dir", d.join("data")));
    let rt = revlink::Runtime::open(&figment).expect("opens with the new key");
    let old = MasterKey::from_hex(&old_hex).unwrap();
    rt.db
        .with_conn(|c| {
            let mut stmt = c.prepare("SELECT website_id, nonce, ciphertext, key_version FROM stripe_connections")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    revlink::crypto::Sealed { nonce: r.get(1)?, ciphertext: r.get(2)? },
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (site, sealed, version) = row?;
                assert_eq!(rt.stripe_keys.open(&ObjectId::parse(&site).unwrap(), &sealed).unwrap().expose_secret(), RK);
                assert!(old.open(&sealed, site.as_bytes()).is_err());
                assert_eq!(version, 2);
            }
            Ok(())
        })
        .unwrap();
    assert!(fails(d, &["rotate-master-key", "--new-key-file", "missing.key"]).contains("cannot read"));
}

#[test]
fn refuses_to_start_when_the_master_key_cannot_open_stored_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_json(d, &["user", "create", "--email", "ann@example.com"]);
    let site = ok_json(d, &["website", "create", "--owner", "ann@example.com", "--domain", "s.example.com"]);
    store_secret(d, site["websiteId"].as_str().unwrap());

    let key_file = d.join("data/master.key");
    let original = std::fs::read_to_string(&key_file).unwrap();
    std::fs::write(&key_file, MasterKey::generate_hex()).unwrap();
    let err = fails(d, &["serve"]);
    assert!(err.contains("refusing to start") && err.contains("cannot decrypt"), "{err}");

    std::fs::remove_file(&key_file).unwrap();
    let err = fails(d, &["serve"]);
    assert!(err.contains("orphan"), "{err}");
    assert!(!key_file.exists(), "no new key was generated");
    std::fs::write(&key_file, original).unwrap();
    ok_json(d, &["user", "create", "--email", "ok@example.com"]);
}

/// Stores a sealed webhook signing secret for `website` (connected by `store_secret`), as the API would.
fn store_webhook_secret(dir: &Path, website: &str, sealed_with: Option<&MasterKey>) {
    let figment = revlink::config::figment().merge(("data_dir", dir.join("data")));
    let rt = revlink::Runtime::open(&figment).unwrap();
    let site = ObjectId::parse(website).unwrap();
    let webhooks = match sealed_with {
        Some(key) => revlink::crypto::StripeKeyBox::new(key.clone()).webhook_secrets(),
        None => rt.stripe_keys.webhook_secrets(),
    };
    let sealed = webhooks.seal(&site, WHSEC);
    assert!(rt.db.with_conn(|c| stripe::set_webhook_secret(c, &site, &sealed, &Actor::cli())).unwrap());
}

const WHSEC: &str = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b";

#[test]
fn webhook_signing_secrets_are_rotated_checked_and_guarded_like_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_json(d, &["user", "create", "--email", "ann@example.com"]);
    let site = ok_json(d, &["website", "create", "--owner", "ann@example.com", "--domain", "s.example.com"]);
    let site = site["websiteId"].as_str().unwrap().to_owned();
    store_secret(d, &site);
    store_webhook_secret(d, &site, None);
    assert_eq!(ok_json(d, &["check"])["secrets"], serde_json::json!({"checked": 2, "unreadable": []}));

    let old_hex = std::fs::read_to_string(d.join("data/master.key")).unwrap();
    std::fs::write(d.join("new.key"), MasterKey::generate_hex()).unwrap();
    let out = ok_json(d, &["rotate-master-key", "--new-key-file", "new.key"]);
    assert_eq!((out["reencrypted"].as_u64(), out["keyVersion"].as_u64()), (Some(2), Some(2)), "the key and the secret");
    let figment = revlink::config::figment().merge(("data_dir", d.join("data")));
    let rt = revlink::Runtime::open(&figment).expect("opens with the new key");
    let id = ObjectId::parse(&site).unwrap();
    let (sealed, version) = rt
        .db
        .with_conn(|c| {
            Ok(c.query_row("SELECT nonce, ciphertext, key_version FROM stripe_webhook_secrets", [], |r| {
                Ok((revlink::crypto::Sealed { nonce: r.get(0)?, ciphertext: r.get(1)? }, r.get::<_, i64>(2)?))
            })?)
        })
        .unwrap();
    assert_eq!(rt.stripe_keys.webhook_secrets().open(&id, &sealed).unwrap().expose_secret(), WHSEC);
    assert_eq!(version, 2);
    let old = revlink::crypto::StripeKeyBox::new(MasterKey::from_hex(&old_hex).unwrap());
    assert!(old.webhook_secrets().open(&id, &sealed).is_err(), "no longer opens under the old key");
    drop(rt);
    assert_eq!(ok_json(d, &["check"])["secrets"], serde_json::json!({"checked": 2, "unreadable": []}));

    // A secret sealed under another master key: `check` names the website, the server refuses to start.
    store_webhook_secret(d, &site, Some(&MasterKey::from_hex(&MasterKey::generate_hex()).unwrap()));
    let out = revlink(d, &["check"]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["secrets"], serde_json::json!({"checked": 2, "unreadable": [site]}));
    let err = fails(d, &["serve"]);
    assert!(err.contains("refusing to start") && err.contains("webhook signing secret"), "{err}");
}
