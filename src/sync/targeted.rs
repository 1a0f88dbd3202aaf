//! Targeted re-reads a Stripe webhook asks for: the charges it named, read again through the API with the stored
//! key (never the event's numbers), each with the checkout session and invoice around it when the charge is new,
//! and committed through the writer like a page of the import. One task per website drains its queue, so a burst
//! of events costs one reader, paced like the import; a charge named again while queued is read once. A failure
//! is logged and left to the next sync, which reads everything again anyway.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use super::fetch::{Caller, FetchError, Stop};
use super::{Importer, Inner, mapping};
use crate::db::import::{self, CheckoutRef, Committed, InvoiceRef};
use crate::db::stripe_webhooks;
use crate::domain::ObjectId;
use crate::providers::stripe::lists;
use crate::providers::stripe::objects::{Charge, CheckoutSession, Expandable, List};
use crate::providers::stripe::webhook::InvoicePayment;

/// Charges waiting for one website beyond which a webhook asks for a sync instead.
const MAX_QUEUED: usize = 1000;

/// The charges waiting to be read again, per website; a website is in the map while its drain task runs.
#[derive(Default)]
pub(super) struct Queue(Mutex<HashMap<ObjectId, BTreeSet<String>>>);

impl Importer {
    /// Reads this charge again soon, in the background (a webhook named it). Past `MAX_QUEUED` charges waiting
    /// for the website, a sync is asked for instead: it reads them all.
    pub fn reread_charge(&self, website: ObjectId, charge: String) {
        let (spawn, full) = {
            let mut waiting = self.inner.rereads.0.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.get_mut(&website) {
                Some(charges) if charges.len() >= MAX_QUEUED => (false, true),
                Some(charges) => {
                    charges.insert(charge);
                    (false, false)
                }
                None => {
                    waiting.insert(website.clone(), BTreeSet::from([charge]));
                    (true, false)
                }
            }
        };
        if full {
            self.trigger(website);
        } else if spawn {
            tokio::spawn(drain(Arc::clone(&self.inner), website));
        }
    }
}

/// Reads the website's queued charges until none is left.
async fn drain(inner: Arc<Inner>, website: ObjectId) {
    loop {
        let batch: Vec<String> = {
            let mut waiting = inner.rereads.0.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(charges) = waiting.get_mut(&website) else { return };
            if charges.is_empty() {
                waiting.remove(&website);
                return;
            }
            std::mem::take(charges).into_iter().collect()
        };
        match reread(&inner, &website, &batch).await {
            Ok(0) | Err(Stop::Disconnected) => {}
            Ok(n) => tracing::info!(%website, charges = n, "Stripe webhook: charges read again"),
            Err(Stop::Refused(m) | Stop::Failed(m)) => {
                tracing::warn!(%website, error = m, "Stripe webhook: a re-read failed; the next sync reads it");
            }
        }
    }
}

fn db_failed(e: crate::error::Error) -> Stop {
    tracing::error!(error = %e, "a webhook's re-read could not use the database");
    Stop::Failed("revlink could not use its database".into())
}

fn parse<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, Stop> {
    serde_json::from_slice(body).map_err(|e| Stop::Failed(format!("Stripe sent a {what} revlink could not read ({e})")))
}

/// Reads `charges` again and commits them; answers how many were found.
async fn reread(inner: &Inner, website: &ObjectId, charges: &[String]) -> Result<usize, Stop> {
    let w = website.clone();
    let stored = inner.db.run(move |c| import::stored_key(c, &w)).await.map_err(db_failed)?;
    let Some(stored) = stored else { return Err(Stop::Disconnected) };
    let key = inner
        .stripe_keys
        .open(website, &stored.sealed)
        .map_err(|_| Stop::Failed("revlink cannot decrypt the stored key with its master key".into()))?;
    let caller = Caller::new(inner, key, stored.livemode);
    let mut read: Vec<Charge> = Vec::with_capacity(charges.len());
    for id in charges {
        // The charge as the import's list reads it, with the same expansions (`providers::stripe::lists`).
        match caller.get(&lists::CHARGES.object(id)).await {
            Ok(body) => read.push(parse("charge", &body)?),
            // Not visible to this key: another account's event, or the other mode's.
            Err(FetchError::NotFound) => {}
            Err(FetchError::Stop(stop)) => return Err(stop),
            Err(FetchError::Forbidden(permission)) => {
                return Err(super::fetch::missing_permission(permission.as_deref()));
            }
            Err(FetchError::Invalid(m)) => return Err(Stop::Failed(m.unwrap_or_else(|| "Stripe answered 400".into()))),
        }
    }
    if read.is_empty() {
        return Ok(0);
    }
    let (checkout, invoices) = surroundings(inner, &caller, website, &read).await?;
    let (w, nonce, count) = (website.clone(), stored.sealed.nonce.clone(), read.len());
    let committed = inner
        .db
        .write(move |tx| {
            stripe_webhooks::commit_charges(
                tx,
                &w,
                &nonce,
                &checkout,
                &invoices,
                |tx| mapping::payments(tx, &w, &read),
                |tx| mapping::attribute_renewals(tx, &w),
            )
        })
        .await
        .map_err(db_failed)?;
    match committed {
        Committed::Done => Ok(count),
        Committed::Disconnected => Err(Stop::Disconnected),
    }
}

/// For each charge not imported before: the invoice its payment intent paid and the checkout session it was paid
/// through (unless stored already), so that a new payment is attributed and told new from renewal at once. What
/// Stripe will not answer here is left to the next sync.
async fn surroundings(
    inner: &Inner,
    caller: &Caller<'_>,
    website: &ObjectId,
    charges: &[Charge],
) -> Result<(Vec<CheckoutRef>, Vec<InvoiceRef>), Stop> {
    let (w, ids) = (website.clone(), charges.iter().map(|c| c.id.clone()).collect::<Vec<_>>());
    let known = inner.db.run(move |c| stripe_webhooks::imported(c, &w, &ids)).await.map_err(db_failed)?;
    let (mut checkout, mut invoices) = (Vec::new(), Vec::new());
    for charge in charges.iter().filter(|c| !known.contains(&c.id)) {
        let Some(intent) = charge.payment_intent.as_ref().map(Expandable::id) else { continue };
        let (w, pi) = (website.clone(), intent.to_owned());
        let (has_checkout, has_invoice) =
            inner.db.run(move |c| stripe_webhooks::surroundings_known(c, &w, &pi)).await.map_err(db_failed)?;
        let mut subscription = None;
        if !has_invoice && let Some(payment) = invoice_paid_by(caller, intent).await {
            let invoice = payment.invoice.object();
            let reason = invoice.and_then(|i| i.billing_reason.clone());
            subscription = invoice.and_then(|i| i.subscription().map(|s| (s.to_owned(), i.id.clone())));
            if let Some(reason) = reason {
                let invoice_id = payment.invoice.id().to_owned();
                invoices.push(InvoiceRef { payer: intent.to_owned(), invoice_id, billing_reason: reason });
            }
        }
        if !has_checkout {
            // A payment-mode session names the payment intent; a subscription-mode one the first invoice.
            let (filter, value, reference) = match &subscription {
                Some((sub, invoice)) => ("subscription", sub.as_str(), invoice.as_str()),
                None => ("payment_intent", intent, intent),
            };
            let sessions = sessions_of(caller, filter, value).await;
            let paid_here: Vec<CheckoutSession> =
                sessions.into_iter().filter(|s| s.references().any(|r| r == reference)).collect();
            checkout.extend(mapping::checkout_refs(&paid_here));
        }
    }
    Ok((checkout, invoices))
}

/// The invoice payment of this payment intent, with its invoice, if Stripe lists one.
async fn invoice_paid_by(caller: &Caller<'_>, intent: &str) -> Option<InvoicePayment> {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("payment[type]", "payment_intent")
        .append_pair("payment[payment_intent]", intent)
        .append_pair("expand[]", "data.invoice")
        .append_pair("limit", "10")
        .finish();
    let body = caller.get(&format!("/v1/invoice_payments?{query}")).await.ok()?;
    let list: List<InvoicePayment> = serde_json::from_slice(&body).ok()?;
    list.data.into_iter().find(|p| p.pays(intent))
}

/// The checkout sessions Stripe lists under `filter=value` (empty when it will not answer).
async fn sessions_of(caller: &Caller<'_>, filter: &str, value: &str) -> Vec<CheckoutSession> {
    let query =
        form_urlencoded::Serializer::new(String::new()).append_pair(filter, value).append_pair("limit", "10").finish();
    let Ok(body) = caller.get(&format!("/v1/checkout/sessions?{query}")).await else { return Vec::new() };
    serde_json::from_slice::<List<CheckoutSession>>(&body).map(|l| l.data).unwrap_or_default()
}
