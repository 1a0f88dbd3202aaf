//! How fast revlink's durable payment writes can go on this machine with no HTTP in front of them
//! (bench/mixed.sh runs it before revlink starts): `concurrency` tasks each record payments one after
//! another through `Db::write` (the group-committing writer, `synchronous = FULL`), with the Payments API's
//! own insert (`db::payments::record`), a fresh transaction id each and times spread over the last year, as
//! the POSTs of the mixed load. Prints `{"writes":…,"seconds":…}` on one line.
//!
//! `cargo run --release --example writer_ceiling -- DB WEBSITE_ID [SECONDS] [CONCURRENCY]`

#[path = "common/ceiling.rs"]
mod ceiling;

use revlink::db::{Db, payments};
use revlink::domain::ObjectId;
use revlink::domain::payment::NewPayment;
use revlink::domain::timestamp::format_time;

fn payment(task: u64, n: u64, now: time::OffsetDateTime) -> NewPayment {
    let ago = (n * 7919 + task * 104_729) % 31_536_000;
    NewPayment {
        transaction_id: format!("ceiling-{task}-{n}"),
        amount: 999 + i64::try_from(n % 90).unwrap_or(0) * 100,
        currency: "USD".into(),
        refunded_amount: 0,
        disputed: false,
        settled: None,
        renewal: false,
        free_trial: false,
        visitor_id: Some(format!("v-{}", n % 5000)),
        session_id: None,
        customer_id: None,
        customer_email: None,
        customer_name: None,
        paid_at: format_time(now - time::Duration::seconds(60 + i64::try_from(ago).unwrap_or(0))),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(site)) = (args.next(), args.next()) else {
        return Err("usage: writer_ceiling DB WEBSITE_ID [SECONDS] [CONCURRENCY]".into());
    };
    let site = ObjectId::parse(&site).ok_or("WEBSITE_ID is not a website id")?;
    let seconds: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let concurrency: u64 = args.next().map_or(Ok(32), |s| s.parse())?;
    let db = Db::open(std::path::Path::new(&path), 2)?;
    let now = time::OffsetDateTime::now_utc();
    ceiling::run(concurrency, seconds, move |task, n| {
        let (db, site, p) = (db.clone(), site.clone(), payment(task, n, now));
        async move { db.write(move |c| payments::record(c, &site, "api", &p)).await.expect("a durable write") }
    })
    .await
}
