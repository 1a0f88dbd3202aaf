//! Fills a revlink database (created by the admin commands, so its migrations ran) with a year of traffic for one
//! website, for bench/reports.sh: by default 200,000 visitors over the last 365 days, each with 1–3 sessions of 1–6
//! pageviews (about 1,000,000 pageviews), some custom goals, and 20,000 payments attributed to visitors
//! (`datafast_visitor_id`), a share of them monthly renewals and a few refunded.
//!
//! Everything goes in through revlink's own storage functions, as the tracking endpoint and the Payments API
//! write: `db::visitors::record` for each event (in time order, so the sessions' and events' time keys append as
//! in production) and `db::payments::record` for each payment (the revenue rollups' triggers run). The rows are
//! written in large transactions on one connection with `synchronous = OFF` and a rollback journal (the file is
//! switched back to WAL at the end): a seed, not a durability test.
//!
//! The distribution is deterministic (a fixed `rand` seed; `SEED` changes it) and meant to look like a small SaaS's
//! site: referrers (Google, direct, X, Reddit, Hacker News, Bing, … and a long tail of hosts), UTM campaigns on about
//! a fifth of the landings, about 60 countries (regions and cities for some), desktop, mobile and tablet browsers, a
//! few hundred landing paths, more traffic in recent months than a year ago.
//!
//! `cargo run --release --example seed_visits -- DB WEBSITE_ID [VISITORS] [PAYMENTS] [SEED]`
//! Prints one JSON line: what was written and how long it took.

use std::collections::HashMap;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rusqlite::Connection;
use serde_json::json;

use revlink::db::{payments, visitors};
use revlink::domain::ObjectId;
use revlink::domain::event::{EventInput, EventKind};
use revlink::domain::payment::NewPayment;
use revlink::domain::site_hosts::SiteHosts;
use revlink::domain::timestamp::format_time;
use revlink::domain::user_agent::{self, Agent};
use revlink::domain::visit::{Acquisition, NewVisit};

const DAY_MS: i64 = 86_400_000;
/// Events written per transaction.
const BATCH: usize = 100_000;

/// Browsers by share: (user agent, weight, viewport).
const AGENTS: &[(&str, u32, (u32, u32))] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        22,
        (1920, 1080),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        12,
        (1440, 900),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        8,
        (1512, 982),
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 5, (1920, 1080)),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        5,
        (1536, 864),
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 3, (1920, 1080)),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        22,
        (390, 844),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        14,
        (412, 915),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        4,
        (360, 780),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        5,
        (820, 1180),
    ),
];

/// Named referrers by share (the rest of the visits: direct, or the long tail of `TAIL_HOSTS`).
const REFERRERS: &[(&str, u32)] = &[
    ("https://www.google.com/", 250),
    ("https://t.co/", 60),
    ("https://www.reddit.com/r/SaaS/", 50),
    ("https://news.ycombinator.com/", 40),
    ("https://www.bing.com/", 30),
    ("https://duckduckgo.com/", 20),
    ("https://www.linkedin.com/", 20),
    ("https://www.facebook.com/", 20),
    ("https://github.com/", 20),
    ("https://www.producthunt.com/", 10),
];
const DIRECT_SHARE: u32 = 340;
const TAIL_SHARE: u32 = 140;
const TAIL_HOSTS: usize = 400;

/// Regions and their cities.
type Places = &'static [(&'static str, &'static str)];

/// Countries by share, with a few regions and cities for some.
const COUNTRIES: &[(&str, u32, Places)] = &[
    (
        "US",
        300,
        &[("California", "San Francisco"), ("New York", "New York"), ("Texas", "Austin"), ("Washington", "Seattle")],
    ),
    ("GB", 70, &[("England", "London"), ("Scotland", "Edinburgh")]),
    ("DE", 70, &[("Berlin", "Berlin"), ("Bavaria", "Munich"), ("Hamburg", "Hamburg")]),
    ("FR", 50, &[("Île-de-France", "Paris"), ("Auvergne-Rhône-Alpes", "Lyon")]),
    ("IN", 50, &[("Karnataka", "Bengaluru"), ("Maharashtra", "Mumbai")]),
    ("CA", 40, &[("Ontario", "Toronto"), ("British Columbia", "Vancouver")]),
    ("NL", 30, &[("North Holland", "Amsterdam")]),
    ("BR", 30, &[("São Paulo", "São Paulo")]),
    ("ES", 25, &[("Madrid", "Madrid"), ("Catalonia", "Barcelona")]),
    ("AU", 25, &[("New South Wales", "Sydney"), ("Victoria", "Melbourne")]),
    ("IT", 20, &[("Lombardy", "Milan")]),
    ("SE", 15, &[("Stockholm", "Stockholm")]),
    ("PL", 15, &[("Masovia", "Warsaw")]),
    ("JP", 15, &[("Tokyo", "Tokyo")]),
    ("CH", 10, &[("Zurich", "Zurich")]),
    ("SG", 10, &[]),
    ("IE", 10, &[("Leinster", "Dublin")]),
    ("MX", 10, &[]),
    ("PT", 8, &[]),
    ("BE", 8, &[]),
    ("AT", 8, &[]),
    ("DK", 8, &[]),
    ("NO", 8, &[]),
    ("FI", 8, &[]),
    ("IL", 8, &[]),
    ("KR", 8, &[]),
    ("UA", 8, &[]),
    ("AR", 6, &[]),
    ("CO", 6, &[]),
    ("CL", 5, &[]),
    ("ZA", 6, &[]),
    ("NG", 6, &[]),
    ("KE", 4, &[]),
    ("EG", 4, &[]),
    ("TR", 6, &[]),
    ("RO", 6, &[]),
    ("CZ", 6, &[]),
    ("HU", 4, &[]),
    ("GR", 4, &[]),
    ("BG", 3, &[]),
    ("RS", 3, &[]),
    ("HR", 3, &[]),
    ("SK", 3, &[]),
    ("SI", 2, &[]),
    ("EE", 3, &[]),
    ("LT", 3, &[]),
    ("LV", 2, &[]),
    ("NZ", 5, &[]),
    ("PH", 5, &[]),
    ("ID", 5, &[]),
    ("VN", 5, &[]),
    ("TH", 4, &[]),
    ("MY", 4, &[]),
    ("PK", 4, &[]),
    ("BD", 3, &[]),
    ("AE", 4, &[]),
    ("SA", 3, &[]),
    ("TW", 4, &[]),
    ("HK", 4, &[]),
    ("CN", 3, &[]),
];
/// Visitors whose country is unknown, in the same units as the countries' shares.
const NO_COUNTRY_SHARE: u32 = 40;

const UTM: &[(&str, &str, &[&str])] = &[
    ("newsletter", "email", &["weekly-digest", "product-update", "onboarding"]),
    ("twitter", "social", &["launch-2025", "founder-thread"]),
    ("google", "cpc", &["brand", "competitors", "analytics-keywords"]),
    ("producthunt", "referral", &["launch-2025"]),
    ("reddit", "social", &["saas-thread"]),
    ("partner-blog", "referral", &["guest-post", "integration"]),
    ("linkedin", "cpc", &["b2b-retargeting", "webinar"]),
];

const GOALS: &[&str] = &["signup", "newsletter_signup", "checkout_started", "demo_request", "download_whitepaper"];

/// Picks from `(item, weight)` pairs.
fn weighted<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut pick = rng.random_range(0..total);
    for item in items {
        let w = weight(item);
        if pick < w {
            return item;
        }
        pick -= w;
    }
    &items[items.len() - 1]
}

/// An index in `0..n`, the low ones far more often (a long tail).
fn skewed(rng: &mut StdRng, n: usize, power: i32) -> usize {
    let u: f64 = rng.random();
    // In 0..n: u lies in [0, 1).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = (u.powi(power) * n as f64) as usize;
    i.min(n - 1)
}

/// The site's pages: landing paths (a few hundred) and the ones visited after landing.
fn pages() -> Vec<String> {
    let mut pages: Vec<String> =
        ["/", "/pricing", "/features", "/about", "/changelog", "/integrations", "/signup", "/login", "/contact"]
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
    pages.extend((1..=220).map(|n| format!("/blog/post-{n}")));
    pages.extend((1..=60).map(|n| format!("/docs/guide-{n}")));
    pages.extend(
        ["stripe", "shopify", "wordpress", "webflow", "framer", "nextjs"].iter().map(|i| format!("/integrations/{i}")),
    );
    pages.extend((1..=20).map(|n| format!("/compare/alternative-{n}")));
    pages
}

fn uuid_like(rng: &mut StdRng) -> String {
    let h = format!("{:032x}", rng.random::<u128>());
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

struct Visitor {
    id: String,
    acquisition: Acquisition,
    first_seen: i64,
}

/// One event to write: when, whose, in which session, on which page, a pageview or a goal.
struct Planned {
    at: i64,
    visitor: u32,
    session: u32,
    page: u16,
    goal: Option<u8>,
}

/// A visitor's first-touch values, derived as the tracking endpoint derives them from the landing event.
fn acquisition(
    rng: &mut StdRng,
    hosts: &SiteHosts,
    domain: &str,
    pages: &[String],
    agents: &[(Agent, (u32, u32))],
) -> Acquisition {
    let landing = &pages[skewed(rng, pages.len(), 3)];
    let host = match rng.random_range(0..100) {
        0..=84 => domain.to_owned(),
        85..=92 => format!("www.{domain}"),
        93..=97 => format!("blog.{domain}"),
        _ => format!("docs.{domain}"),
    };
    let mut href = format!("https://{host}{landing}");
    let mut query: Vec<String> = Vec::new();
    if rng.random_bool(0.2) {
        let (source, medium, campaigns) = UTM.choose(rng).expect("campaigns");
        query.push(format!("utm_source={source}&utm_medium={medium}"));
        query.push(format!("utm_campaign={}", campaigns.choose(rng).expect("a campaign")));
        if *medium == "cpc" && rng.random_bool(0.5) {
            query.push(format!("utm_term=keyword-{}", rng.random_range(1..40)));
        }
        if rng.random_bool(0.3) {
            query.push(format!("utm_content=variant-{}", ["a", "b", "c"].choose(rng).expect("a variant")));
        }
    }
    if rng.random_bool(0.03) {
        query.push(format!("gclid=Cj0KCQ{}", rng.random::<u32>()));
    }
    if rng.random_bool(0.02) {
        query.push(format!("ref=affiliate-{}", rng.random_range(1..30)));
    }
    if !query.is_empty() {
        href = format!("{href}?{}", query.join("&"));
    }
    let referrer = match rng.random_range(0..1000) {
        n if n < DIRECT_SHARE => None,
        n if n < DIRECT_SHARE + TAIL_SHARE => Some(format!("https://site{}.example.org/", skewed(rng, TAIL_HOSTS, 2))),
        _ => Some(weighted(rng, REFERRERS, |r| r.1).0.to_owned()),
    };
    let body = json!({"websiteId": "dfid_seed", "href": href, "referrer": referrer, "type": "pageview"});
    let event = EventInput::parse(body.to_string().as_bytes()).expect("a valid event");
    let (agent, _) = &agents[weighted_index(rng, AGENTS.iter().map(|a| a.1))];
    let country_total: u32 = COUNTRIES.iter().map(|c| c.1).sum::<u32>() + NO_COUNTRY_SHARE;
    let (country, place) = if rng.random_range(0..country_total) < NO_COUNTRY_SHARE {
        (None, None)
    } else {
        let (code, _, places) = weighted(rng, COUNTRIES, |c| c.1);
        let place = (!places.is_empty() && rng.random_bool(0.6)).then(|| *places.choose(rng).expect("a place"));
        (Some((*code).to_owned()), place)
    };
    let mut acquisition = Acquisition::derive(&event, hosts, agent.clone(), country);
    if let Some((region, city)) = place {
        acquisition.region = Some(region.to_owned());
        acquisition.city = Some(city.to_owned());
    }
    acquisition
}

fn weighted_index(rng: &mut StdRng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut pick = rng.random_range(0..total);
    for (i, w) in weights.enumerate() {
        if pick < w {
            return i;
        }
        pick -= w;
    }
    0
}

type Failure = Box<dyn std::error::Error>;

/// The visitors and, in time order, their events: each visitor's first visit somewhere in the year (more of them
/// lately), 1–3 sessions of 1–6 pages each, a goal now and then. Answers the visitors, the events and the sessions'
/// ids.
fn plan(
    rng: &mut StdRng,
    count: u32,
    hosts: &SiteHosts,
    domain: &str,
    pages: &[String],
    now_ms: i64,
) -> Result<Plan, Failure> {
    let agents: Vec<(Agent, (u32, u32))> = AGENTS.iter().map(|(ua, _, vp)| (user_agent::describe(ua), *vp)).collect();
    let year_ago = now_ms - 365 * DAY_MS;
    let mut visitors = Vec::with_capacity(count as usize);
    let mut events: Vec<Planned> = Vec::with_capacity(count as usize * 5);
    let mut sessions: u32 = 0;
    for v in 0..count {
        let acquisition = acquisition(rng, hosts, domain, pages, &agents);
        let recent: f64 = rng.random::<f64>().powf(0.8);
        // Within the year: `recent` lies in [0, 1), and a year of milliseconds is exact in an f64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let first_seen = year_ago + (recent * 365.0 * DAY_MS as f64) as i64;
        let landing = u16::try_from(pages.iter().position(|p| *p == acquisition.landing_path).unwrap_or(0))?;
        let session_count = match rng.random_range(0..100) {
            0..=61 => 1,
            62..=90 => 2,
            _ => 3,
        };
        let mut start = first_seen;
        for s in 0..session_count {
            if s > 0 {
                start += rng.random_range(DAY_MS / 24..45 * DAY_MS);
            }
            if start >= now_ms - 60_000 {
                break;
            }
            let mut at = start;
            let views = [1, 1, 2, 3, 4, 5, 6, 6][rng.random_range(0..8)];
            for p in 0..views {
                let page = if p == 0 { landing } else { u16::try_from(skewed(rng, pages.len(), 2))? };
                events.push(Planned { at, visitor: v, session: sessions, page, goal: None });
                if rng.random_bool(0.04) {
                    let goal = u8::try_from(rng.random_range(0..GOALS.len()))?;
                    events.push(Planned { at: at + 5_000, visitor: v, session: sessions, page, goal: Some(goal) });
                }
                at += rng.random_range(10_000..180_000);
            }
            sessions += 1;
        }
        visitors.push(Visitor { id: uuid_like(rng), acquisition, first_seen });
    }
    events.sort_by_key(|e| (e.at, e.session));
    let session_ids = (0..sessions).map(|_| uuid_like(rng)).collect();
    Ok(Plan { visitors, events, session_ids })
}

struct Plan {
    visitors: Vec<Visitor>,
    events: Vec<Planned>,
    session_ids: Vec<String>,
}

/// Writes the planned events through `db::visitors::record`, `BATCH` to a transaction. Answers (pageviews, goals).
fn write_visits(conn: &mut Connection, site: &ObjectId, plan: &Plan, pages: &[String]) -> Result<(u64, u64), Failure> {
    let (mut pageviews, mut goals) = (0u64, 0u64);
    for batch in plan.events.chunks(BATCH) {
        let tx = conn.transaction()?;
        for e in batch {
            let visitor = &plan.visitors[e.visitor as usize];
            let (kind, name) = match e.goal {
                Some(g) => (EventKind::Custom, Some(GOALS[usize::from(g)].to_owned())),
                None => (EventKind::Pageview, None),
            };
            let session = plan.session_ids[e.session as usize].clone();
            let visit = NewVisit {
                kind,
                name,
                path: pages[usize::from(e.page)].clone(),
                ..NewVisit::pageview(site.clone(), visitor.id.clone(), session, e.at, visitor.acquisition.clone())
            };
            visitors::record(&tx, &visit)?;
            if e.goal.is_some() {
                goals += 1;
            } else {
                pageviews += 1;
            }
        }
        tx.commit()?;
    }
    Ok((pageviews, goals))
}

/// Writes `count` payments through `db::payments::record` (the rollups' triggers run) in one transaction: a first
/// purchase a little after a visitor's first visit; a third of the customers subscribe and renew monthly for a while.
/// A few name no visitor, or one revlink never saw. Answers the number of customers.
fn write_payments(
    conn: &mut Connection,
    rng: &mut StdRng,
    site: &ObjectId,
    visitors: &[Visitor],
    count: usize,
    now_ms: i64,
) -> Result<u32, Failure> {
    let plans = [900, 1900, 2900, 4900, 9900, 19_900];
    let tx = conn.transaction()?;
    let (mut written, mut customer) = (0usize, 0u32);
    while written < count {
        customer += 1;
        let visitor = &visitors[rng.random_range(0..visitors.len())];
        let amount = *plans.choose(rng).expect("plans");
        let currency = if rng.random_bool(0.1) { "EUR" } else { "USD" };
        let subscribes = rng.random_bool(0.33);
        let visitor_id = match rng.random_range(0..100) {
            0..=4 => None,
            5..=7 => Some(format!("unseen-{customer}")),
            _ => Some(visitor.id.clone()),
        };
        let mut paid = visitor.first_seen + rng.random_range(0..14 * DAY_MS);
        let mut renewal = false;
        while paid < now_ms - 60_000 && written < count {
            let refunded = if rng.random_bool(0.03) { amount } else { 0 };
            let payment = NewPayment {
                transaction_id: format!("seed-{written}"),
                amount,
                currency: currency.into(),
                refunded_amount: refunded,
                disputed: false,
                settled: None,
                renewal,
                free_trial: false,
                visitor_id: visitor_id.clone(),
                session_id: None,
                customer_id: Some(format!("cus_seed{customer}")),
                customer_email: Some(format!("customer{customer}@example.com")),
                customer_name: None,
                paid_at: format_time(time::OffsetDateTime::from_unix_timestamp(paid / 1000)?),
            };
            payments::record(&tx, site, "api", &payment)?;
            written += 1;
            // A subscriber renews each month until they churn (about one in eight a month).
            if !subscribes || rng.random_bool(0.12) {
                break;
            }
            renewal = true;
            paid += 30 * DAY_MS;
        }
    }
    tx.commit()?;
    Ok(customer)
}

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(site)) = (args.next(), args.next()) else {
        return Err("usage: seed_visits DB WEBSITE_ID [VISITORS] [PAYMENTS] [SEED]".into());
    };
    let site = ObjectId::parse(&site).ok_or("WEBSITE_ID is not a website id")?;
    let visitor_count: u32 = args.next().map_or(Ok(200_000), |s| s.parse())?;
    let payment_count: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);

    let mut conn = Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;
         PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;",
    )?;
    let (domain, allowed): (String, String) =
        conn.query_row("SELECT domain, allowed_hostnames FROM websites WHERE id = ?1", [&site], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let pages = pages();
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let plan = plan(&mut rng, visitor_count, &SiteHosts::new(&domain, &allowed), &domain, &pages, now_ms)?;
    let (pageviews, goals) = write_visits(&mut conn, &site, &plan, &pages)?;
    let visits_done = started.elapsed().as_secs_f64();
    let customers = write_payments(&mut conn, &mut rng, &site, &plan.visitors, payment_count, now_ms)?;
    conn.execute_batch("PRAGMA journal_mode = WAL;")?;
    let counts: HashMap<&str, i64> = ["visitors", "visitor_sessions", "events", "payments"]
        .into_iter()
        .map(|t| {
            let n = conn.query_row(&format!("SELECT COUNT(*) FROM {t} WHERE website_id = ?1"), [&site], |r| r.get(0));
            n.map(|n| (t, n))
        })
        .collect::<rusqlite::Result<_>>()?;
    println!(
        "{}",
        json!({"visitors": counts["visitors"], "sessions": counts["visitor_sessions"], "events": counts["events"],
               "pageviews": pageviews, "goals": goals, "payments": counts["payments"], "customers": customers,
               "visits_seconds": (visits_done * 10.0).round() / 10.0,
               "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0})
    );
    Ok(())
}
