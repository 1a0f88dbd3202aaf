//! MRR at scale (issue 12's targets): 100,000 subscriptions over 24 months.
//!
//! 1. `compute`: `domain::mrr::report::compute` over the months from the earliest subscription to now (target
//!    ≤ 1 s), and what a cache miss costs besides (reading the subscriptions and snapshots back from SQLite).
//! 2. `route`: `GET /api/v1/admin/websites/{id}/mrr` once computed (cached), against a bare Rocket JSON route
//!    (`GET /` → `{"ok":true}`, as `examples/bare_rocket.rs`), both through Rocket's local client in this process
//!    (target ≤ 50 ms; the ratio is what the machine does not change).
//!
//! `cargo bench --bench mrr [-- 100000]` prints one JSON line.

// Counts, sizes and timings of a benchmark: far inside every integer type and float mantissa.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

mod common;

use std::time::{Duration, Instant};

use rocket::http::Header;
use rocket::local::asynchronous::Client;
use rocket::serde::json::{Json, Value as RocketValue, json as rocket_json};
use serde_json::json;

use revlink::db::{credentials, subscriptions};
use revlink::domain::mrr::plan::{Discount, Duration as CouponDuration, Interval, Item, UsageType};
use revlink::domain::mrr::report::{self, YearMonth};
use revlink::domain::mrr::{NewSubscription, Plan, Rate, Status, Subscription};
use revlink::domain::{Actor, PermissionSet};

const MONTH: i64 = 30 * 86_400;

/// xorshift64*: the same subscriptions on every run, without a dependency.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `n` subscriptions of about 0.8 n customers, created over the last 24 months: monthly, yearly and weekly prices,
/// quantities, forever and once coupons, trials, cancellations, a change of plan seen later for one in ten, and
/// unpaid, past due and euro ones.
fn generate(n: usize, now: i64) -> Vec<NewSubscription> {
    let mut d = Draw(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let created = now - d.below(24 * MONTH as u64) as i64;
            let (interval, unit_amount) = match d.below(20) {
                0..=13 => (Interval::Month, 1000 + 100 * d.below(90) as i64),
                14..=18 => (Interval::Year, 10_000 + 1000 * d.below(90) as i64),
                _ => (Interval::Week, 300 + 10 * d.below(50) as i64),
            };
            let item = Item {
                price: format!("price_{}", d.below(40)),
                unit_amount: Some(unit_amount),
                interval,
                interval_count: 1,
                usage_type: if d.chance(5) { UsageType::Metered } else { UsageType::Licensed },
                quantity: 1 + d.below(10) as i64,
            };
            let discounts = match d.below(20) {
                0 | 1 => vec![Discount {
                    coupon: "forever20".into(),
                    duration: CouponDuration::Forever,
                    percent_off: Some(20.0),
                    amount_off: None,
                    currency: None,
                }],
                2 => vec![Discount {
                    coupon: "once50".into(),
                    duration: CouponDuration::Once,
                    percent_off: Some(50.0),
                    amount_off: None,
                    currency: None,
                }],
                _ => vec![],
            };
            let trial = d.chance(15).then(|| (created, created + 14 * 86_400));
            let ended_at = d.chance(20).then(|| (created + d.below((now - created).max(1) as u64) as i64).min(now));
            let status = match (ended_at, d.below(50)) {
                (Some(_), _) => Status::Canceled,
                (None, 0) => Status::Unpaid,
                (None, 1) => Status::PastDue,
                _ if trial.is_some_and(|(_, end)| end > now) => Status::Trialing,
                _ => Status::Active,
            };
            NewSubscription {
                id: format!("sub_bench{i:08}"),
                customer: format!("cus_bench{:07}", d.below(n as u64 * 8 / 10)),
                currency: if d.chance(3) { "EUR".into() } else { "USD".into() },
                status,
                created,
                start_date: Some(created),
                trial_start: trial.map(|t| t.0),
                trial_end: trial.map(|t| t.1),
                cancel_at: None,
                canceled_at: ended_at,
                ended_at,
                cancel_at_period_end: false,
                current_period_start: Some(now - d.below(MONTH as u64) as i64),
                current_period_end: None,
                plan: Plan::new(vec![item], discounts),
            }
        })
        .collect()
}

/// The same subscriptions as `compute` takes them, with a second observation (a quantity change) for one in ten.
fn histories(subs: &[NewSubscription], now: i64) -> Vec<Subscription> {
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            let first = revlink::domain::mrr::Observation {
                at: s.created,
                status: s.status,
                since: s.status_since(),
                plan: s.plan.clone(),
            };
            let mut observations = vec![first];
            if i % 10 == 0 && s.created < now - MONTH {
                let mut plan = s.plan.clone();
                plan.items[0].quantity += 1;
                observations.push(revlink::domain::mrr::Observation {
                    at: s.created + MONTH,
                    plan,
                    ..observations[0].clone()
                });
            }
            Subscription {
                id: s.id.clone(),
                customer: s.customer.clone(),
                currency: s.currency.clone(),
                created: s.created,
                trial_start: s.trial_start,
                trial_end: s.trial_end,
                ended_at: s.ended_at,
                observations,
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() * 95 / 100]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

#[rocket::get("/")]
fn ok() -> Json<RocketValue> {
    Json(rocket_json!({"ok": true}))
}

/// Median and 95th percentile of `rounds` requests to `path` (ms), each answered 200.
async fn time_requests(client: &Client, path: &str, bearer: Option<&str>, rounds: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let mut req = client.get(path.to_owned());
        if let Some(token) = bearer {
            req.add_header(Header::new("Authorization", format!("Bearer {token}")));
        }
        let started = Instant::now();
        let res = req.dispatch().await;
        let status = res.status();
        let body = res.into_bytes().await.unwrap_or_default();
        times.push(ms(started.elapsed()));
        assert_eq!(status.code, 200, "{path}: {}", String::from_utf8_lossy(&body));
    }
    (median(times.clone()), p95(times))
}

#[rocket::main]
async fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let now = chrono::Utc::now().timestamp();
    let subs = generate(n, now);

    // 1. The computation alone, over every month from the earliest subscription's (25 months).
    let tz = chrono_tz::Tz::UTC;
    let this = YearMonth::at(now, tz);
    let months = report::months(tz, this.minus(24), this);
    let with_history = histories(&subs, now);
    let eur = Rate { amount: 100, settled: 108 };
    let mut compute_runs = Vec::new();
    let mut computed = None;
    for _ in 0..5 {
        let started = Instant::now();
        let result = report::compute(&with_history, |s| (s.currency == "EUR").then_some(eur), "USD", &months, now);
        compute_runs.push(ms(started.elapsed()));
        computed = Some(result);
    }
    let computed = computed.expect("computed");

    // 2. The route, on a revlink with these subscriptions stored.
    let dir = tempfile::tempdir().expect("temp dir");
    let figment = revlink::config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("stripe_api_base", "http://127.0.0.1:9"))
        .merge(("log_level", "off"))
        .merge(("auto_import", false))
        .merge(("rate_limit_per_minute", 1_000_000));
    let client = Client::untracked(revlink::build(figment).expect("revlink builds")).await.expect("ignites");
    let state = client.rocket().state::<revlink::service::App>().expect("state");
    let stored = Instant::now();
    let (site, token) = state
        .db
        .with_conn(|c| {
            let (owner, site) = common::owner_and_website(c)?;
            let perms = PermissionSet::parse(&["*"]).expect("permissions");
            let token =
                credentials::create_access_token(c, &owner, None, &perms, &[], &Actor::cli())?.key.expect("key");
            revlink::db::in_transaction(c, |tx| {
                for page in subs.chunks(100) {
                    subscriptions::upsert_page(tx, &site, page, now)?;
                }
                subscriptions::set_available(tx, &site, true, None, now)
            })?;
            Ok((site, token))
        })
        .expect("seeded");
    let store_ms = ms(stored.elapsed());
    let loaded = Instant::now();
    let read = state.db.with_conn(|c| subscriptions::for_mrr(c, &site)).expect("read back");
    let load_ms = ms(loaded.elapsed());
    assert_eq!(read.len(), n);

    let path = format!("/api/v1/admin/websites/{site}/mrr?start={}&end={}", this.minus(23).label(), this.label());
    let first = Instant::now();
    let (cold, _) = time_requests(&client, &path, Some(&token), 1).await;
    let first_ms = ms(first.elapsed()).max(cold);
    let (route_median, route_p95) = time_requests(&client, &path, Some(&token), 200).await;

    // As examples/bare_rocket.rs: nothing of revlink, logging off, a generated secret key (release profile).
    let config = rocket::Config {
        log_level: rocket::config::LogLevel::Off,
        secret_key: rocket::config::SecretKey::generate().expect("the system's random source"),
        ..rocket::Config::release_default()
    };
    let bare = Client::untracked(rocket::custom(config).mount("/", rocket::routes![ok])).await.expect("bare rocket");
    let (bare_median, bare_p95) = time_requests(&bare, "/", None, 200).await;

    let compute_ms = median(compute_runs);
    println!(
        "{}",
        json!({
            "subscriptions": n, "months": months.len(),
            "mrr_now": computed.current.mrr, "active_subscribers": computed.current.active_subscribers,
            "compute_ms": compute_ms, "compute_vs_target_1s": (compute_ms / 1000.0 * 1000.0).round() / 1000.0,
            "store_ms": store_ms, "load_ms": load_ms, "first_request_ms": first_ms,
            "route_median_ms": route_median, "route_p95_ms": route_p95,
            "bare_median_ms": bare_median, "bare_p95_ms": bare_p95,
            "route_vs_bare": (route_median / bare_median * 10.0).round() / 10.0,
            "route_vs_target_50ms": (route_median / 50.0 * 1000.0).round() / 1000.0,
        })
    );
}
