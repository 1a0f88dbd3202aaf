//! How a page of Stripe objects becomes the rows the import stores, and the renewal-attribution rule.
//! The objects' own rules (which charge is a payment, where its visitor comes from) are in
//! `providers::stripe::objects`; this file feeds them what earlier pages stored.

use rusqlite::Connection;

use crate::db::import::{self, CheckoutRef, InvoiceRef};
use crate::db::payments;
use crate::domain::ObjectId;
use crate::domain::payment::NewPayment;
use crate::error::Result;
use crate::providers::stripe::objects::{
    Charge, CheckoutIds, CheckoutSession, Invoice, Surroundings, payment_from_charge,
};

/// Each session with datafast ids, once per reference a charge can name it by.
pub fn checkout_refs(sessions: &[CheckoutSession]) -> Vec<CheckoutRef> {
    let mut refs = Vec::new();
    for session in sessions {
        let Some(ids) = session.ids() else { continue };
        for reference in session.references() {
            refs.push(CheckoutRef {
                reference: reference.to_owned(),
                visitor_id: ids.visitor_id.clone(),
                session_id: ids.session_id.clone(),
            });
        }
    }
    refs
}

/// Each invoice with a billing reason, once per charge or payment intent that paid it.
pub fn invoice_refs(invoices: &[Invoice]) -> Vec<InvoiceRef> {
    let mut refs = Vec::new();
    for invoice in invoices {
        let Some(reason) = &invoice.billing_reason else { continue };
        for payer in invoice.payers() {
            refs.push(InvoiceRef {
                payer: payer.to_owned(),
                invoice_id: invoice.id.clone(),
                billing_reason: reason.clone(),
            });
        }
    }
    refs
}

/// The payments among `charges`, attributed from what the session and invoice pages stored.
pub fn payments(conn: &Connection, website: &ObjectId, charges: &[Charge]) -> Vec<NewPayment> {
    let around = StoredSurroundings { conn, website };
    charges.iter().filter_map(|charge| payment_from_charge(charge, &around)).collect()
}

/// A subscription's renewals carry no datafast ids of their own: they belong to the visitor who started
/// it, i.e. of the customer's earliest attributed payment. Run when a charge pass ends, so the result does
/// not depend on the order in which the pass read the charges.
pub fn attribute_renewals(conn: &Connection, website: &ObjectId) -> Result<()> {
    let mut firsts = std::collections::HashMap::new();
    for (id, customer) in payments::unattributed_renewals(conn, website, "stripe")? {
        if !firsts.contains_key(&customer) {
            let first = payments::first_visitor_of_customer(conn, website, &customer)?;
            firsts.insert(customer.clone(), first);
        }
        if let Some(Some(visitor)) = firsts.get(&customer) {
            payments::set_visitor(conn, &id, visitor)?;
        }
    }
    Ok(())
}

/// Attribution and billing reasons from what earlier pages stored.
struct StoredSurroundings<'a> {
    conn: &'a Connection,
    website: &'a ObjectId,
}

/// A failed read is logged and treated as "nothing stored": the payment is still imported, and the
/// rescan of later syncs attributes it.
fn logged<T>(found: Result<Option<T>>) -> Option<T> {
    found.unwrap_or_else(|e| {
        tracing::error!(error = %e, "reading import references failed");
        None
    })
}

impl Surroundings for StoredSurroundings<'_> {
    fn checkout(&self, reference: &str) -> Option<CheckoutIds> {
        logged(import::checkout_ref(self.conn, self.website, reference))
            .map(|r| CheckoutIds { visitor_id: r.visitor_id, session_id: r.session_id })
    }

    fn invoice(&self, payer: &str) -> Option<(String, String)> {
        logged(import::invoice_ref(self.conn, self.website, payer)).map(|r| (r.invoice_id, r.billing_reason))
    }
}
