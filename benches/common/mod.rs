//! What the benchmarks share: a fresh database's owner and website, and that website connected to Stripe.

#![allow(dead_code)] // each benchmark uses a part

use rusqlite::Connection;

use revlink::db::stripe::{self, NewConnection};
use revlink::db::{users, websites};
use revlink::domain::{Actor, ObjectId};
use revlink::error::Result;

/// The live restricted key the benchmarks connect (their Stripe fakes accept any).
pub const KEY: &str = "rk_live_51BenchBenchBenchBenchBench";

/// An owner and their website `bench.example.com` (UTC).
pub fn owner_and_website(c: &mut Connection) -> Result<(ObjectId, ObjectId)> {
    let owner = users::create(c, "bench@example.com", None, None)?;
    let new =
        revlink::domain::website::NewWebsite { domain: "bench.example.com".into(), name: None, timezone: "UTC".into() };
    let site = websites::create(c, &owner, &new, &Actor::cli())?.website_id;
    Ok((owner, site))
}

/// A website whose Stripe is connected with `KEY` (live mode, USD).
pub fn connected_website(state: &revlink::service::App, c: &mut Connection) -> Result<ObjectId> {
    let (_, site) = owner_and_website(c)?;
    let connection = NewConnection {
        sealed: state.stripe_keys.seal(&site, KEY),
        livemode: true,
        display_key: "rk_live_…Bench".into(),
        currency: "USD".into(),
    };
    stripe::connect(c, &site, &connection, &Actor::cli())?;
    Ok(site)
}
