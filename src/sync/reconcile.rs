//! Reconciliation with Stripe's ledger, once a day and on request: for each of the last `reconcile_days` UTC days,
//! revlink's gross, refunds and fees (its Stripe payments, in the settlement currency) against the sums of Stripe's
//! balance transactions, read in one walk of `/v1/balance_transactions` (100 a page). Each balance transaction
//! counts on the day of the payment it belongs to, as revlink counts them: a charge's on the day it was paid, a
//! refund's (or a failed refund's) on the day of the charge it refunds. A day that differs has its charges read
//! again through the import's own mapping and writer, then is compared again; what still differs is stored and
//! logged (dates, figures, amounts; never a key).
//!
//! A refund's balance transaction names only the refund: which charge it refunds comes from what the import's
//! refund list stored, and for refunds it never saw, from Stripe (one request each, or one walk of the window's
//! refund list when that costs fewer requests).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Days, NaiveDate};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::Inner;
use super::fetch::{Caller, FetchError, Stop, missing_permission};
use super::mapping;
use super::pass::{PAGE_SIZE, on_db, on_writer};
use crate::db::import;
use crate::db::reconcile::{self as store, Outcome};
use crate::domain::ObjectId;
use crate::domain::reconciliation::{self as rules, Figures, Ledger};
use crate::providers::stripe::ledger::{LedgerEntry, Movement, is_charge_id};
use crate::providers::stripe::lists;
use crate::providers::stripe::objects::{Charge, List, Refund};

/// Runs one check of the website and records how it ended (unless the connection went away meanwhile).
pub async fn run(inner: &Inner, website: &ObjectId) {
    let check = match Check::start(inner, website).await {
        Ok(Some(check)) => check,
        Ok(None) | Err(Stop::Disconnected) => return,
        Err(Stop::Refused(m) | Stop::Failed(m)) => return record_failure(inner, website, &m).await,
    };
    match check.compare().await {
        Ok(outcome) => {
            log(website, &outcome);
            let (w, nonce) = (website.clone(), check.nonce.clone());
            if let Err(e) = inner.db.write(move |c| store::finish(c, &w, &nonce, &outcome)).await {
                tracing::error!(%website, error = %e, "could not record a Stripe reconciliation");
            }
        }
        Err(Stop::Disconnected) => {}
        Err(Stop::Refused(m) | Stop::Failed(m)) => record_failure(inner, website, &m).await,
    }
}

async fn record_failure(inner: &Inner, website: &ObjectId, message: &str) {
    tracing::warn!(%website, error = message, "Stripe reconciliation failed");
    let (w, m) = (website.clone(), message.to_owned());
    if let Err(e) = inner.db.write(move |c| store::fail(c, &w, &m)).await {
        tracing::error!(%website, error = %e, "could not record a failed Stripe reconciliation");
    }
}

fn log(website: &ObjectId, o: &Outcome) {
    if o.mismatches.is_empty() {
        tracing::info!(%website, days = o.days, repaired_days = o.repaired_days, requests = o.requests,
            "Stripe reconciliation: revlink matches Stripe");
        return;
    }
    let differing: Vec<String> = o
        .mismatches
        .iter()
        .map(|m| format!("{} {} {} (revlink {}, Stripe {})", m.date, m.field, m.currency, m.revlink, m.stripe))
        .collect();
    tracing::warn!(%website, days = o.days, matched_days = o.matched_days, differing = differing.join("; "),
        "Stripe reconciliation: revlink differs from Stripe");
}

/// One check under way.
struct Check<'a> {
    inner: &'a Inner,
    website: &'a ObjectId,
    /// The connection being read: nothing is written once it is no longer the website's.
    nonce: Vec<u8>,
    caller: Caller<'a>,
    /// The UTC days compared, oldest first; `today` is the day after the last.
    window: Vec<NaiveDate>,
    today: NaiveDate,
    now: i64,
    requests: AtomicU64,
}

/// What the walk of the ledger gathered.
#[derive(Default)]
struct Walk {
    stripe: Ledger,
    entries: u64,
    refund_entries: u64,
    /// Refunds not yet placed on a day: their charge is unknown to revlink (or the refund is).
    pending: Vec<Pending>,
    /// The day of each charge revlink does not have, from its own balance transaction.
    unknown_charges: HashMap<String, NaiveDate>,
}

struct Pending {
    refund: String,
    charge: Option<String>,
    refunded: i64,
    currency: String,
}

impl<'a> Check<'a> {
    /// Opens the stored key and marks the check running; `None` when there is nothing to compare.
    async fn start(inner: &'a Inner, website: &'a ObjectId) -> Result<Option<Check<'a>>, Stop> {
        let w = website.clone();
        let stored = on_db(inner, move |c| import::stored_key(c, &w)).await?.ok_or(Stop::Disconnected)?;
        let key = inner.stripe_keys.open(website, &stored.sealed).map_err(|_| {
            Stop::Failed("revlink cannot decrypt the stored key with its master key; connect the key again".into())
        })?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let today = rules::utc_date(now).ok_or_else(|| Stop::Failed("the clock is out of range".into()))?;
        let window = rules::window(today, inner.config.reconcile_days);
        if window.is_empty() {
            return Ok(None);
        }
        let nonce = stored.sealed.nonce.clone();
        let (w, n) = (website.clone(), nonce.clone());
        if !on_writer(inner, move |c| store::begin(c, &w, &n)).await? {
            return Err(Stop::Disconnected);
        }
        let caller = Caller::new(inner, key, stored.livemode);
        Ok(Some(Check { inner, website, nonce, caller, window, today, now, requests: AtomicU64::new(0) }))
    }

    async fn compare(&self) -> Result<Outcome, Stop> {
        let first = self.window[0];
        let walk = self.walk(rules::start_of(first)).await?;
        let found = rules::compare(&self.window, &self.revlink().await?, &walk.stripe);
        let differing = rules::dates_of(&found);
        let still = if differing.is_empty() {
            found
        } else {
            for day in &differing {
                self.reread(*day).await?;
            }
            let w = self.website.clone();
            on_writer(self.inner, move |c| mapping::attribute_renewals(c, &w)).await?;
            rules::compare(&self.window, &self.revlink().await?, &walk.stripe)
        };
        let still_differing = rules::dates_of(&still);
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Outcome {
            days: count(self.window.len()),
            matched_days: count(self.window.len() - still_differing.len()),
            repaired_days: count(differing.difference(&still_differing).count()),
            balance_transactions: walk.entries,
            requests: self.requests.load(Ordering::Relaxed),
            mismatches: still,
        })
    }

    fn counts(&self, day: NaiveDate) -> bool {
        self.window[0] <= day && day < self.today
    }

    async fn get(&self, path: &str) -> Result<bytes::Bytes, FetchError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.caller.get(path).await
    }

    async fn revlink(&self) -> Result<Ledger, Stop> {
        let (w, from, to) = (self.website.clone(), self.window[0], self.today);
        on_db(self.inner, move |c| store::figures(c, &w, from, to)).await
    }

    /// One walk of the balance transactions created since `from`, each page looked up while the next is fetched.
    async fn walk(&self, from: i64) -> Result<Walk, Stop> {
        let url = |cursor: Option<&str>| {
            lists::BALANCE_TRANSACTIONS.page_between(PAGE_SIZE, from, Some(self.now + 1), cursor)
        };
        let mut walk = Walk::default();
        let mut reply = self.get(&url(None)).await;
        loop {
            let body = reply.map_err(|e| unusable("balance transactions", e))?;
            let list: List<LedgerEntry> = parse("balance transactions", &body)?;
            let next = list.next_cursor();
            match next {
                Some(cursor) => {
                    let next_url = url(Some(&cursor));
                    let (taken, fetched) = tokio::join!(self.take(&mut walk, list.data), self.get(&next_url));
                    taken?;
                    reply = fetched;
                }
                None => {
                    self.take(&mut walk, list.data).await?;
                    break;
                }
            }
        }
        self.place_pending(&mut walk, from).await?;
        Ok(walk)
    }

    /// Adds a page of balance transactions to the walk's days.
    async fn take(&self, walk: &mut Walk, entries: Vec<LedgerEntry>) -> Result<(), Stop> {
        walk.entries += entries.len() as u64;
        let moves: Vec<(Movement, String, Option<NaiveDate>)> = entries
            .iter()
            .map(|e| (e.movement(), e.currency.to_ascii_uppercase(), rules::utc_date(e.created)))
            .collect();
        let mut charges = Vec::new();
        let mut refunds = Vec::new();
        for (movement, ..) in &moves {
            match movement {
                Movement::Payment { charge, .. } => charges.push(charge.clone()),
                Movement::Refund { source, .. } if is_charge_id(source) => charges.push(source.clone()),
                Movement::Refund { source, .. } => refunds.push(source.clone()),
                Movement::Other => {}
            }
        }
        let w = self.website.clone();
        let (days, refs) = on_db(self.inner, move |c| {
            let refs = store::refunded_charges(c, &w, &refunds)?;
            charges.extend(refs.values().cloned());
            Ok((store::paid_dates(c, &w, &charges)?, refs))
        })
        .await?;
        for (movement, currency, created) in moves {
            match movement {
                Movement::Payment { charge, gross, fee } => {
                    let day = match days.get(&charge) {
                        Some(day) => *day,
                        None => {
                            let Some(day) = created else { continue };
                            walk.unknown_charges.insert(charge, day);
                            day
                        }
                    };
                    if self.counts(day) {
                        walk.stripe.entry((day, currency)).or_default().add(Figures { gross, refunds: 0, fees: fee });
                    }
                }
                Movement::Refund { source, refunded } => {
                    walk.refund_entries += 1;
                    let charge = if is_charge_id(&source) { Some(source.clone()) } else { refs.get(&source).cloned() };
                    match charge.as_ref().and_then(|c| days.get(c)) {
                        Some(day) if self.counts(*day) => {
                            let refund = Figures { gross: 0, refunds: refunded, fees: 0 };
                            walk.stripe.entry((*day, currency)).or_default().add(refund);
                        }
                        // A refund of a payment made before the window.
                        Some(_) => {}
                        None => walk.pending.push(Pending { refund: source, charge, refunded, currency }),
                    }
                }
                Movement::Other => {}
            }
        }
        Ok(())
    }

    /// Places the refunds whose charge revlink does not know: the charge comes from Stripe when the refund is
    /// unknown too, its day from revlink or from the charge's balance transaction in the walk. A refund of a charge
    /// neither has (one made before the window) is not on any day compared.
    async fn place_pending(&self, walk: &mut Walk, from: i64) -> Result<(), Stop> {
        let unknown: Vec<String> = walk
            .pending
            .iter()
            .filter(|p| p.charge.is_none())
            .map(|p| p.refund.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !unknown.is_empty() {
            let list_pages = walk.refund_entries.div_ceil(u64::from(PAGE_SIZE)).max(1);
            let refs = if unknown.len() as u64 > list_pages {
                self.refund_list(from).await?
            } else {
                self.refunds(&unknown).await?
            };
            let charges: HashMap<&str, &str> = refs.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
            for p in walk.pending.iter_mut().filter(|p| p.charge.is_none()) {
                p.charge = charges.get(p.refund.as_str()).map(|c| (*c).to_owned());
            }
            let (w, n) = (self.website.clone(), self.nonce.clone());
            on_writer(self.inner, move |c| {
                if import::is_current(c, &w, &n)? {
                    import::save_refund_refs(c, &w, &refs)?;
                }
                Ok(())
            })
            .await?;
        }
        let charges: Vec<String> = walk.pending.iter().filter_map(|p| p.charge.clone()).collect();
        let w = self.website.clone();
        let days = on_db(self.inner, move |c| store::paid_dates(c, &w, &charges)).await?;
        for p in std::mem::take(&mut walk.pending) {
            let Some(charge) = p.charge else { continue };
            let Some(day) = days.get(&charge).or_else(|| walk.unknown_charges.get(&charge)).copied() else { continue };
            if self.counts(day) {
                walk.stripe.entry((day, p.currency)).or_default().add(Figures {
                    gross: 0,
                    refunds: p.refunded,
                    fees: 0,
                });
            }
        }
        Ok(())
    }

    /// Each refund looked up: `(refund, charge)` for those Stripe still has.
    async fn refunds(&self, ids: &[String]) -> Result<Vec<(String, String)>, Stop> {
        let mut refs = Vec::with_capacity(ids.len());
        for id in ids {
            let escaped: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            match self.get(&format!("/v1/refunds/{escaped}")).await {
                Ok(body) => {
                    let refund: Refund = parse("refunds", &body)?;
                    refs.extend(refund.charge.map(|c| (refund.id, c)));
                }
                Err(FetchError::NotFound) => {}
                Err(e) => return Err(unusable("refunds", e)),
            }
        }
        Ok(refs)
    }

    /// Every refund created since `from`: `(refund, charge)`.
    async fn refund_list(&self, from: i64) -> Result<Vec<(String, String)>, Stop> {
        let mut refs = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = lists::REFUNDS.page_between(PAGE_SIZE, from, None, cursor.as_deref());
            let body = self.get(&path).await.map_err(|e| unusable("refunds", e))?;
            let list: List<Refund> = parse("refunds", &body)?;
            cursor = list.next_cursor();
            refs.extend(list.data.into_iter().filter_map(|r| Some((r.id, r.charge?))));
            if cursor.is_none() {
                return Ok(refs);
            }
        }
    }

    /// Reads the charges created on `day` again, as the import reads them, and writes them through the writer.
    async fn reread(&self, day: NaiveDate) -> Result<(), Stop> {
        let next_day = day.checked_add_days(Days::new(1)).unwrap_or(day);
        let mut cursor: Option<String> = None;
        loop {
            // The charges list's own call (its expansions), for the day.
            let (from, until) = (rules::start_of(day), rules::start_of(next_day));
            let path = lists::CHARGES.page_between(PAGE_SIZE, from, Some(until), cursor.as_deref());
            let body = self.get(&path).await.map_err(|e| unusable("charges", e))?;
            let list: List<Charge> = parse("charges", &body)?;
            cursor = list.next_cursor();
            let w = self.website.clone();
            let payments = on_db(self.inner, move |c| Ok(mapping::payments(c, &w, &list.data))).await?;
            let (w, n) = (self.website.clone(), self.nonce.clone());
            if !on_writer(self.inner, move |c| store::commit_reread(c, &w, &n, &payments)).await? {
                return Err(Stop::Disconnected);
            }
            if cursor.is_none() {
                return Ok(());
            }
        }
    }
}

fn parse<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, Stop> {
    serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(list = what, error = %e, "unreadable Stripe answer");
        Stop::Failed(format!("Stripe sent {what} revlink could not read ({e})"))
    })
}

fn unusable(what: &str, e: FetchError) -> Stop {
    match e {
        FetchError::Stop(stop) => stop,
        FetchError::Forbidden(permission) => missing_permission(permission.as_deref()),
        FetchError::NotFound => Stop::Failed(format!("Stripe answered 404 to the {what} list")),
        FetchError::Invalid(message) => Stop::Failed(format!(
            "Stripe refused to list {what}: {}",
            message.unwrap_or_else(|| "400 Bad Request".into())
        )),
    }
}
