//! One sync of one website: each Stripe list in turn (checkout sessions, invoices, charges, refunds, disputes,
//! subscriptions), every page committed with its cursor. The first sync is the backfill: everything created since
//! `import_since_days`. Later syncs read what was created since the last one (with an overlap) and
//! re-read the last `rescan_days` for refunds, disputes and late attribution; refunds of older charges
//! come from Stripe's refund list. Nothing here depends on the order in which a list is returned.
//! Reads go to the pool (`on_db`); writes, each page with its cursor above all, to the database's writer
//! (`on_writer`), which answers once they are committed and synced.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::Inner;
use super::fetch::{Caller, FetchError, Stop, missing_permission};
use super::mapping;
use super::stream::Stream;
use super::subscriptions;
use crate::db::disputes;
use crate::db::import::{self, Committed, Outcome, Page, Pass, Rows};
use crate::domain::ObjectId;
use crate::domain::mrr::NewSubscription;
use crate::metrics::ImportError;
use crate::providers::stripe::dispute::{Dispute, new_dispute};
use crate::providers::stripe::objects::{Charge, CheckoutSession, Invoice, List, Refund};
use crate::providers::stripe::verify;

/// The objects of one page, as read.
enum Fetched {
    CheckoutSessions(Vec<CheckoutSession>),
    Invoices(Vec<Invoice>),
    /// Charges read from the charge list.
    Charges(Vec<Charge>),
    /// Refunds (`(refund, charge)`), and their charges re-read.
    Refunds(Vec<(String, String)>, Vec<Charge>),
    Disputes(Vec<Dispute>),
    Subscriptions(Vec<NewSubscription>),
}

impl Fetched {
    /// The oldest `created` on the page (for the backfill's progress).
    fn oldest(&self) -> Option<i64> {
        match self {
            Self::CheckoutSessions(v) => v.iter().map(|s| s.created).min(),
            Self::Invoices(v) => v.iter().map(|i| i.created).min(),
            Self::Charges(v) | Self::Refunds(_, v) => v.iter().map(|c| c.created).min(),
            Self::Disputes(v) => v.iter().map(|d| d.created).min(),
            Self::Subscriptions(v) => v.iter().map(|s| s.created).min(),
        }
    }
}

/// Lists are re-read this far behind the last pass, for clock skew and Stripe's list consistency.
const OVERLAP_SECS: i64 = 3600;
pub(super) const PAGE_SIZE: u32 = 100;

/// Runs one sync and records how it ended (unless it was stopped: whoever stopped it — a disconnect,
/// a new key — set the state).
pub async fn sync(inner: &Inner, website: &ObjectId) -> Outcome {
    let mut nonce = Vec::new();
    let outcome = match try_sync(inner, website, &mut nonce).await {
        Ok(()) => Outcome::Complete,
        Err(Stop::Refused(m)) => Outcome::Refused(m),
        Err(Stop::Failed(m)) => Outcome::Failed(m),
        Err(Stop::Disconnected) => Outcome::Stopped,
    };
    // Counted before the state is written, so whoever sees the state finds it counted.
    match outcome {
        Outcome::Refused(_) => inner.metrics.import_error(ImportError::Refused),
        Outcome::Failed(_) => inner.metrics.import_error(ImportError::Failed),
        Outcome::Complete | Outcome::Stopped => {}
    }
    if outcome != Outcome::Stopped {
        let (w, o) = (website.clone(), outcome.clone());
        if let Err(e) = inner.db.write(move |c| import::finish(c, &w, &nonce, &o)).await {
            tracing::error!(%website, error = %e, "could not record the end of a sync");
        }
    }
    outcome
}

/// Runs `f` on a pooled connection (reads). A failure ends the sync like a Stripe failure: the next one resumes.
pub(super) async fn on_db<T, F>(inner: &Inner, f: F) -> Result<T, Stop>
where
    T: Send + 'static,
    F: FnOnce(&mut rusqlite::Connection) -> crate::error::Result<T> + Send + 'static,
{
    inner.db.run(f).await.map_err(db_failed)
}

/// Runs `f` on the database's writer (writes): answered once committed, with whatever else was queued.
pub(super) async fn on_writer<T, F>(inner: &Inner, f: F) -> Result<T, Stop>
where
    T: Send + 'static,
    F: Fn(&rusqlite::Connection) -> crate::error::Result<T> + Send + 'static,
{
    inner.db.write(f).await.map_err(db_failed)
}

fn db_failed(e: crate::error::Error) -> Stop {
    tracing::error!(error = %e, "the import could not use the database");
    Stop::Failed("revlink could not write to its database; it tries again at the next sync".into())
}

struct Sync<'a> {
    inner: &'a Inner,
    website: &'a ObjectId,
    /// Identifies the connection being read: a page is written only while it is still the website's.
    nonce: Vec<u8>,
    caller: Caller<'a>,
    /// Whether invoices are read with `expand[]=data.payments`. Stripe always takes it at the pinned API version; a
    /// Stripe-compatible server that ignores `Stripe-Version` may not: localstripe, whose invoices have the old
    /// shape (`charge`, `payment_intent`), answers it 400 "Bad expand" as soon as it holds an invoice. The pass then
    /// reads invoices unexpanded, as such servers shape them.
    expand_invoice_payments: AtomicBool,
}

/// `nonce` learns the connection being read, for `finish`.
async fn try_sync(inner: &Inner, website: &ObjectId, nonce: &mut Vec<u8>) -> Result<(), Stop> {
    let w = website.clone();
    let stored = on_db(inner, move |c| import::stored_key(c, &w)).await?;
    let Some(stored) = stored else { return Err(Stop::Disconnected) };
    nonce.clone_from(&stored.sealed.nonce);
    let key = inner.stripe_keys.open(website, &stored.sealed).map_err(|_| {
        Stop::Failed("revlink cannot decrypt the stored key with its master key; connect the key again".into())
    })?;
    let (w, n) = (website.clone(), stored.sealed.nonce.clone());
    if !on_writer(inner, move |c| import::mark_running(c, &w, &n)).await? {
        return Err(Stop::Disconnected);
    }
    // The optional permissions again (two `limit=1` calls): one granted in Stripe's dashboard since the key was
    // connected counts from this sync on, one taken away is no longer relied on.
    if let Some(optional) = verify::optional_permissions(&inner.client, &key).await {
        let (w, n) = (website.clone(), stored.sealed.nonce.clone());
        on_writer(inner, move |c| crate::db::stripe::set_optional_permissions(c, &w, &n, optional)).await?;
    }
    let sync = Sync {
        inner,
        website,
        nonce: stored.sealed.nonce.clone(),
        caller: Caller::new(inner, key, stored.livemode),
        expand_invoice_payments: AtomicBool::new(true),
    };

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let since = now - i64::from(inner.config.import_since_days) * 86_400;
    let rescan_from = now - i64::from(inner.config.rescan_days) * 86_400;
    let w = website.clone();
    let backfill = on_db(inner, move |c| import::stream(c, &w, Stream::Charges.name())).await?.high_water.is_none();
    let mut charges_low = since;
    for stream in Stream::ALL {
        let w = website.clone();
        let state = on_writer(inner, move |c| {
            import::set_stage(c, &w, stream.name())?;
            import::stream(c, &w, stream.name())
        })
        .await?;
        let pass = match state.pass {
            Some(pass) => pass,
            None => {
                let low = match state.high_water {
                    // Subscriptions change long after they are created: the whole list, every sync.
                    _ if stream == Stream::Subscriptions => 0,
                    // localstripe cannot filter invoices by date, and reading a few older ones costs little.
                    None if stream == Stream::Invoices => 0,
                    None => since,
                    // The backfill's charges carry their refunded amounts; its refund list names the charge of each
                    // refund, which the reconciliation needs (no request of its own then). Read whole, like the
                    // first invoices: refunds are few, and localstripe answers a date filter on them with a 500.
                    Some(_) if backfill && stream == Stream::Refunds => 0,
                    Some(hw) if stream == Stream::Refunds => hw - OVERLAP_SECS,
                    Some(hw) => (hw - OVERLAP_SECS).min(rescan_from).max(since),
                };
                // A dispute is decided weeks after it opens: read back to the oldest one still open.
                let low = if stream == Stream::Disputes && state.high_water.is_some() {
                    let w = website.clone();
                    let open = on_db(inner, move |c| disputes::oldest_open(c, &w)).await?;
                    open.map_or(low, |o| low.min(o - 1)).max(since)
                } else {
                    low
                };
                let pass = Pass { low, cursor: None, started: now };
                sync.save_pass(stream, &pass).await?;
                pass
            }
        };
        if stream == Stream::Charges {
            charges_low = pass.low;
        }
        sync.run_pass(stream, pass, charges_low).await?;
    }
    Ok(())
}

impl Sync<'_> {
    async fn save_pass(&self, stream: Stream, pass: &Pass) -> Result<(), Stop> {
        let (w, p) = (self.website.clone(), pass.clone());
        on_writer(self.inner, move |c| import::begin_pass(c, &w, stream.name(), &p)).await
    }

    /// Reads the pass's pages from its cursor to the end. While one page is written the next is
    /// already being fetched.
    async fn run_pass(&self, stream: Stream, mut pass: Pass, charges_low: i64) -> Result<(), Stop> {
        let mut reply = self.fetch(stream, &pass).await;
        let mut restarted = false;
        loop {
            let body = match reply {
                Ok(body) => body,
                // Subscriptions are optional: without them (no permission, no such list) MRR is not computed.
                Err(e)
                    if stream == Stream::Subscriptions
                        && pass.cursor.is_none()
                        && subscriptions::refusal(&e).is_some() =>
                {
                    return self.subscriptions_refused(&e, pass.started).await;
                }
                // A list this server does not have (localstripe has no checkout sessions): nothing to read.
                Err(FetchError::NotFound) if pass.cursor.is_none() && stream != Stream::Charges => {
                    tracing::warn!(list = stream.name(), "Stripe has no such list here; skipped");
                    let (w, started) = (self.website.clone(), pass.started);
                    return on_writer(self.inner, move |c| import::skip_pass(c, &w, stream.name(), started)).await;
                }
                // The cursor is unknown to Stripe (the object is gone): read the pass again from its start.
                Err(FetchError::NotFound | FetchError::Invalid(_)) if pass.cursor.is_some() && !restarted => {
                    tracing::warn!(list = stream.name(), "Stripe does not know the saved cursor; restarting the pass");
                    restarted = true;
                    pass.cursor = None;
                    self.save_pass(stream, &pass).await?;
                    reply = self.fetch(stream, &pass).await;
                    continue;
                }
                // Disputes are optional: a key without rak_dispute_read imports everything else.
                Err(FetchError::Forbidden(permission)) if stream == Stream::Disputes => {
                    let why = format!(
                        "The key lacks the {} permission (Disputes: Read), so disputes are not imported; grant it in \
                         Stripe to count lost disputes in net revenue.",
                        permission.as_deref().unwrap_or("rak_dispute_read")
                    );
                    tracing::warn!(list = stream.name(), "Stripe refused the dispute list; skipped");
                    let (w, started) = (self.website.clone(), pass.started);
                    return on_writer(self.inner, move |c| {
                        disputes::set_refused(c, &w, Some(&why))?;
                        import::skip_pass(c, &w, stream.name(), started)
                    })
                    .await;
                }
                Err(FetchError::Invalid(_))
                    if stream == Stream::Invoices && self.expand_invoice_payments.load(Ordering::Relaxed) =>
                {
                    // Accounts on API versions before 2025 name the payer on the invoice itself.
                    self.expand_invoice_payments.store(false, Ordering::Relaxed);
                    reply = self.fetch(stream, &pass).await;
                    continue;
                }
                Err(e) => return Err(unusable(stream, e)),
            };
            let (rows, next) = self.rows(stream, &body, charges_low).await?;
            match next.clone() {
                Some(cursor) => {
                    pass.cursor = Some(cursor);
                    let (committed, fetched) =
                        tokio::join!(self.commit(stream, rows, next, pass.started), self.fetch(stream, &pass));
                    committed?;
                    reply = fetched;
                }
                None => return self.commit(stream, rows, None, pass.started).await,
            }
        }
    }

    /// Stores the page's rows with the pass position. The charges become payments first, on a pooled
    /// connection, attributed from what the session and invoice passes stored (committed before this pass
    /// began, so a reader sees it); the writer's transaction then only writes.
    async fn commit(&self, stream: Stream, fetched: Fetched, next: Option<String>, started: i64) -> Result<(), Stop> {
        let (w, nonce) = (self.website.clone(), self.nonce.clone());
        let oldest = fetched.oldest();
        let rows = match fetched {
            Fetched::CheckoutSessions(sessions) => Rows::CheckoutRefs(mapping::checkout_refs(&sessions)),
            Fetched::Invoices(invoices) => Rows::InvoiceRefs(mapping::invoice_refs(&invoices)),
            Fetched::Charges(charges) => {
                let w = w.clone();
                Rows::Payments(on_db(self.inner, move |c| Ok(mapping::payments(c, &w, &charges))).await?)
            }
            Fetched::Refunds(refs, charges) => {
                let w = w.clone();
                Rows::Refunds(refs, on_db(self.inner, move |c| Ok(mapping::payments(c, &w, &charges))).await?)
            }
            Fetched::Disputes(list) => Rows::Disputes(list.iter().filter_map(new_dispute).collect()),
            Fetched::Subscriptions(list) => Rows::Subscriptions { list, observed_at: started },
        };
        let page = Page { stream: stream.name(), rows, oldest, next, started };
        let committed = on_writer(self.inner, move |c| {
            import::commit_page(c, &w, &nonce, &page, |tx| {
                if stream == Stream::Subscriptions {
                    let gone = crate::db::subscriptions::mark_gone(tx, &w, started)?;
                    if gone > 0 {
                        tracing::info!(website = %w, gone, "subscriptions no longer listed by Stripe, recorded as canceled");
                    }
                    return crate::db::subscriptions::set_available(tx, &w, true, None, started);
                }
                if stream != Stream::Charges {
                    return Ok(());
                }
                mapping::attribute_renewals(tx, &w)?;
                // The first complete charge pass saw every refund so far: refunds are read from here on.
                import::start_stream_at(tx, &w, Stream::Refunds.name(), started)
            })
        })
        .await?;
        match committed {
            Committed::Done => {
                self.inner.metrics.page_committed(stream.name());
                Ok(())
            }
            Committed::Disconnected => Err(Stop::Disconnected),
        }
    }

    async fn fetch(&self, stream: Stream, pass: &Pass) -> Result<bytes::Bytes, FetchError> {
        let url = self.list_url(stream, pass);
        self.caller.get(&url).await
    }

    /// Stripe will not list subscriptions for this key: recorded, and the sync carries on without them.
    async fn subscriptions_refused(&self, e: &FetchError, started: i64) -> Result<(), Stop> {
        let reason = subscriptions::refusal(e).unwrap_or_default();
        subscriptions::log_refusal(self.website, &reason);
        let (w, name) = (self.website.clone(), Stream::Subscriptions.name());
        on_writer(self.inner, move |c| {
            crate::db::subscriptions::set_available(c, &w, false, Some(&reason), started)?;
            import::skip_pass(c, &w, name, started)
        })
        .await
    }

    fn list_url(&self, stream: Stream, pass: &Pass) -> String {
        let call = match stream.call() {
            call if stream == Stream::Invoices && !self.expand_invoice_payments.load(Ordering::Relaxed) => {
                call.unexpanded()
            }
            call => call,
        };
        call.page(PAGE_SIZE, pass.low, pass.cursor.as_deref())
    }

    /// The page's rows and the cursor of the next page (`None` at the end of the list).
    async fn rows(&self, stream: Stream, body: &[u8], charges_low: i64) -> Result<(Fetched, Option<String>), Stop> {
        Ok(match stream {
            Stream::CheckoutSessions => {
                let list: List<CheckoutSession> = parse(stream, body)?;
                let cursor = list.next_cursor();
                (Fetched::CheckoutSessions(list.data), cursor)
            }
            Stream::Invoices => {
                let list: List<Invoice> = parse(stream, body)?;
                let cursor = list.next_cursor();
                (Fetched::Invoices(list.data), cursor)
            }
            Stream::Charges => {
                let list: List<Charge> = parse(stream, body)?;
                let cursor = list.next_cursor();
                (Fetched::Charges(list.data), cursor)
            }
            Stream::Subscriptions => {
                let (list, cursor) = subscriptions::page(parse(stream, body)?);
                (Fetched::Subscriptions(list), cursor)
            }
            Stream::Refunds => {
                let list: List<Refund> = parse(stream, body)?;
                let cursor = list.next_cursor();
                let refs: Vec<(String, String)> =
                    list.data.iter().filter_map(|r| Some((r.id.clone(), r.charge.clone()?))).collect();
                let ids: Vec<String> =
                    refs.iter().map(|(_, charge)| charge.clone()).collect::<BTreeSet<_>>().into_iter().collect();
                (Fetched::Refunds(refs, self.reread_charges(ids, charges_low).await?), cursor)
            }
            Stream::Disputes => {
                let list: List<Dispute> = parse(stream, body)?;
                let cursor = list.next_cursor();
                (Fetched::Disputes(list.data), cursor)
            }
        })
    }

    /// The refunded charges this sync's charge pass did not read (paid before it began), read again.
    async fn reread_charges(&self, ids: Vec<String>, charges_low: i64) -> Result<Vec<Charge>, Stop> {
        let w = self.website.clone();
        let old = on_db(self.inner, move |c| import::imported_paid_before(c, &w, &ids, charges_low)).await?;
        let mut charges = Vec::with_capacity(old.len());
        for id in old {
            match self.caller.get(&Stream::Charges.call().object(&id)).await {
                Ok(body) => charges.push(parse(Stream::Charges, &body)?),
                Err(FetchError::NotFound) => {} // no longer visible to this key
                Err(e) => return Err(unusable(Stream::Refunds, e)),
            }
        }
        Ok(charges)
    }
}

pub(super) fn parse<T: DeserializeOwned>(stream: Stream, body: &[u8]) -> Result<T, Stop> {
    serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(list = stream.name(), error = %e, "unreadable Stripe answer");
        Stop::Failed(format!(
            "Stripe sent {} revlink could not read ({e}); it tries again at the next sync",
            stream.name()
        ))
    })
}

fn unusable(stream: Stream, e: FetchError) -> Stop {
    match e {
        FetchError::Stop(stop) => stop,
        FetchError::NotFound => Stop::Failed(format!("Stripe answered 404 to the {} list", stream.name())),
        FetchError::Forbidden(permission) => missing_permission(permission.as_deref()),
        FetchError::Invalid(message) => Stop::Failed(format!(
            "Stripe refused to list {}: {}",
            stream.name(),
            message.unwrap_or_else(|| "400 Bad Request".into())
        )),
    }
}
