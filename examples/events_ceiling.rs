//! How fast revlink can store tracking events on this machine with no HTTP in front of them (bench/events.sh runs
//! it before revlink starts, and prints it beside the target): `concurrency` tasks each record page views one
//! after another through `Db::write_unsynced` (the group-committing writer, as `POST /api/events` does) with the
//! ingestion's own `db::visitors::record`, the bench's traffic: a third from new visitors, the rest from a pool
//! of 10,000 returning ones, a fifth with a campaign. Prints `{"writes":…,"seconds":…}` on one line.
//! `NEW_EVERY` changes the mix: one event in that many from a new visitor (1: all new; a large number: all
//! returning), to see what each costs.
//!
//! `cargo run --release --example events_ceiling -- DB WEBSITE_ID DOMAIN [SECONDS] [CONCURRENCY] [NEW_EVERY]`

#[path = "common/ceiling.rs"]
mod ceiling;

use revlink::db::{Db, visitors};
use revlink::domain::ObjectId;
use revlink::domain::event::EventInput;
use revlink::domain::site_hosts::SiteHosts;
use revlink::domain::user_agent;
use revlink::domain::visit::{Acquisition, NewVisit};

const PAGES: [&str; 5] = ["/", "/pricing", "/features", "/blog/how-we-grew", "/docs/install"];
const AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

fn visit(site: &ObjectId, hosts: &SiteHosts, domain: &str, (task, n, run, every): (u64, u64, u64, u64)) -> NewVisit {
    let page = PAGES[usize::try_from(n / 3 % 5).unwrap_or(0)];
    let query = if n.is_multiple_of(5) { "?utm_source=newsletter&utm_medium=email&utm_campaign=spring" } else { "" };
    let body = format!(r#"{{"websiteId":"dfid_x","href":"https://{domain}{page}{query}","type":"pageview"}}"#);
    let event = EventInput::parse(body.as_bytes()).expect("a valid event");
    let acquisition = Acquisition::derive(&event, hosts, user_agent::describe(AGENT), None);
    let now = chrono::Utc::now().timestamp_millis();
    let (visitor, session) = if n.is_multiple_of(every) {
        let v = format!("new-{run}-{task}-{n}");
        (v.clone(), format!("{v}-s"))
    } else {
        let v = format!("old-{run}-{}", (n * 7919 + task * 104_729) % 10_000);
        (v.clone(), format!("{v}-s{}", now / 1_800_000))
    };
    NewVisit::pageview(site.clone(), visitor, session, now, acquisition)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(site), Some(domain)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: events_ceiling DB WEBSITE_ID DOMAIN [SECONDS] [CONCURRENCY] [NEW_EVERY]".into());
    };
    let site = ObjectId::parse(&site).ok_or("WEBSITE_ID is not a website id")?;
    let seconds: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let concurrency: u64 = args.next().map_or(Ok(32), |s| s.parse())?;
    let every: u64 = args.next().map_or(Ok(3), |s| s.parse())?.max(1);
    let db = Db::open(std::path::Path::new(&path), 2)?;
    let run = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let hosts = SiteHosts::new(&domain, "");
    ceiling::run(concurrency, seconds, move |task, n| {
        let (db, v) = (db.clone(), visit(&site, &hosts, &domain, (task, n, run, every)));
        async move { db.write_unsynced(move |c| visitors::record(c, &v)).await.expect("a stored event") }
    })
    .await
}
