//! The Stripe objects the revenue import reads, in the shapes of the pinned API version (`super::API_VERSION`,
//! field names as in Stripe's API reference for it), and how one charge with what surrounds it becomes one payment.
//! Pure: the import worker fetches, this decides. A few fields of older versions are still read, each marked: a
//! Stripe-compatible server that ignores `Stripe-Version` (localstripe, the import's second test peer) answers in
//! its own old shapes.

use std::collections::HashMap;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::domain::payment::{NewPayment, Settlement};

pub const VISITOR_KEY: &str = "datafast_visitor_id";
pub const SESSION_KEY: &str = "datafast_session_id";

/// An id, or the object itself when the list was asked to `expand[]` it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

impl<T> Expandable<T> {
    pub fn object(&self) -> Option<&T> {
        match self {
            Self::Object(o) => Some(o),
            Self::Id(_) => None,
        }
    }
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> &str {
        match self {
            Self::Id(id) => id,
            Self::Object(o) => o.id(),
        }
    }
}

pub trait HasId {
    fn id(&self) -> &str;
}

/// `{"object":"list","data":[...],"has_more":bool}`.
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T: HasId> List<T> {
    /// The next page's `starting_after`: the last object's id while Stripe has more.
    pub fn next_cursor(&self) -> Option<String> {
        self.data.last().filter(|_| self.has_more).map(|last| last.id().to_owned())
    }
}

type Metadata = HashMap<String, String>;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BillingDetails {
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    pub currency: String,
    pub created: i64,
    #[serde(default)]
    pub paid: bool,
    #[serde(default)]
    pub disputed: bool,
    #[serde(default = "yes")]
    pub captured: bool,
    pub status: String,
    pub customer: Option<Expandable<Customer>>,
    #[serde(default)]
    pub billing_details: BillingDetails,
    #[serde(default)]
    pub metadata: Metadata,
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// Older shape (removed in `2025-03-31.basil`, so never sent at the pinned version; localstripe sends it): the
    /// invoice this charge paid. Now the invoice names its payments.
    pub invoice: Option<Expandable<Invoice>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub fee: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    #[serde(default)]
    pub metadata: Metadata,
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Subscription-mode sessions are paid through their first invoice.
    pub invoice: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    pub charge: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub created: i64,
    pub billing_reason: Option<String>,
    /// The payments made for the invoice: an includable list, present only when the list call expands it
    /// (`expand[]=data.payments`); its first handful, which is every payment of an invoice paid in one go.
    pub payments: Option<List<InvoicePayment>>,
    /// What the invoice was made for; a subscription's invoices name it here.
    pub parent: Option<InvoiceParent>,
    /// Older shapes (removed in `2025-03-31.basil`; localstripe sends them): the payment and the subscription named
    /// on the invoice itself.
    pub charge: Option<Expandable<Charge>>,
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    pub subscription: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceParent {
    pub subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionDetails {
    pub subscription: Option<String>,
}

/// One `invoice_payment`: `payment.type` is `payment_intent` (the payment intent is named, not its charge),
/// `charge` (a charge without a payment intent) or `payment_record` (paid outside Stripe: no money to import).
#[derive(Debug, Clone, Deserialize)]
pub struct InvoicePayment {
    pub payment: InvoicePaymentTarget,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvoicePaymentTarget {
    pub charge: Option<Expandable<Charge>>,
    pub payment_intent: Option<Expandable<PaymentIntent>>,
}

macro_rules! has_id {
    ($($t:ty),*) => {$(impl HasId for $t { fn id(&self) -> &str { &self.id } })*};
}
has_id!(Charge, Customer, PaymentIntent, BalanceTransaction, CheckoutSession, Invoice, Refund);

/// What the import learned from the objects around charges. The import answers from its
/// database; tests answer from maps.
pub trait Surroundings {
    /// The datafast ids of the checkout session paid with this payment intent or invoice.
    fn checkout(&self, reference: &str) -> Option<CheckoutIds>;
    /// The invoice paid by this charge or payment intent: its id and billing reason.
    fn invoice(&self, payer: &str) -> Option<(String, String)>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutIds {
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
}

impl CheckoutSession {
    /// The datafast ids in the session's own metadata, if it carries any.
    pub fn ids(&self) -> Option<CheckoutIds> {
        let maps = [Some(&self.metadata)];
        let ids = CheckoutIds {
            visitor_id: metadata_value(&maps, VISITOR_KEY),
            session_id: metadata_value(&maps, SESSION_KEY),
        };
        (ids.visitor_id.is_some() || ids.session_id.is_some()).then_some(ids)
    }

    /// What a charge can name to find this session: its payment intent, or (subscriptions) its invoice.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.payment_intent.iter().map(Expandable::id).chain(self.invoice.as_deref())
    }
}

impl Invoice {
    /// The subscription the invoice bills, if any (`parent.subscription_details.subscription`; older shapes:
    /// `subscription`).
    pub fn subscription(&self) -> Option<&str> {
        let details = self.parent.as_ref().and_then(|p| p.subscription_details.as_ref());
        details.and_then(|d| d.subscription.as_deref()).or(self.subscription.as_deref())
    }

    /// The charges and payment intents that paid this invoice, in the pinned and the older shapes.
    pub fn payers(&self) -> Vec<&str> {
        let mut payers: Vec<&str> = Vec::new();
        payers.extend(self.charge.as_ref().map(Expandable::id));
        payers.extend(self.payment_intent.as_ref().map(Expandable::id));
        for p in self.payments.iter().flat_map(|l| &l.data) {
            payers.extend(p.payment.charge.as_ref().map(Expandable::id));
            payers.extend(p.payment.payment_intent.as_ref().map(Expandable::id));
        }
        payers
    }
}

/// A subscription's later periods; `subscription_create` and one-off invoices are new revenue.
fn is_renewal(billing_reason: &str) -> bool {
    matches!(billing_reason, "subscription_cycle" | "subscription_threshold")
}

fn metadata_value(maps: &[Option<&Metadata>], key: &str) -> Option<String> {
    maps.iter().flatten().find_map(|m| m.get(key)).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The payment a charge is, or `None` when no money moved (failed or uncaptured). The visitor and
/// session come from the charge, its payment intent or its checkout session, whichever has them.
pub fn payment_from_charge(charge: &Charge, around: &impl Surroundings) -> Option<NewPayment> {
    if !charge.paid || !charge.captured || charge.status != "succeeded" {
        return None;
    }
    let intent_id = charge.payment_intent.as_ref().map(Expandable::id);
    let intent_metadata = charge.payment_intent.as_ref().and_then(Expandable::object).map(|pi| &pi.metadata);
    let invoice = around.invoice(&charge.id).or_else(|| intent_id.and_then(|id| around.invoice(id))).or_else(|| {
        // Older shape (localstripe): the charge names its invoice.
        let inv = charge.invoice.as_ref()?;
        let reason = inv.object().and_then(|o| o.billing_reason.clone()).unwrap_or_default();
        Some((inv.id().to_owned(), reason))
    });
    let checkout = intent_id
        .and_then(|id| around.checkout(id))
        .or_else(|| invoice.as_ref().and_then(|(id, _)| around.checkout(id)))
        .unwrap_or_default();
    let sources = [Some(&charge.metadata), intent_metadata];
    let settled = charge.balance_transaction.as_ref().and_then(Expandable::object).map(|bt| Settlement {
        amount: bt.amount,
        currency: bt.currency.to_ascii_uppercase(),
        fee: bt.fee,
    });
    let paid_at =
        OffsetDateTime::from_unix_timestamp(charge.created).ok().map(crate::domain::timestamp::format_time)?;
    Some(NewPayment {
        transaction_id: charge.id.clone(),
        amount: charge.amount,
        currency: charge.currency.to_ascii_uppercase(),
        refunded_amount: charge.amount_refunded,
        disputed: charge.disputed,
        settled,
        renewal: invoice.as_ref().is_some_and(|(_, reason)| is_renewal(reason)),
        free_trial: charge.amount == 0,
        visitor_id: metadata_value(&sources, VISITOR_KEY).or(checkout.visitor_id),
        session_id: metadata_value(&sources, SESSION_KEY).or(checkout.session_id),
        customer_id: charge.customer.as_ref().map(|c| c.id().to_owned()),
        customer_email: charge.billing_details.email.clone(),
        customer_name: charge.billing_details.name.clone(),
        paid_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The database's answers, from maps.
    #[derive(Default)]
    struct Around {
        sessions: HashMap<String, CheckoutIds>,
        invoices: HashMap<String, (String, String)>,
    }

    impl Around {
        fn add_session(&mut self, session: &CheckoutSession) {
            let ids = session.ids().expect("session with datafast ids");
            for r in session.references() {
                self.sessions.insert(r.to_owned(), ids.clone());
            }
        }
        fn add_invoice(&mut self, invoice: &Invoice) {
            for p in invoice.payers() {
                let reason = invoice.billing_reason.clone().unwrap_or_default();
                self.invoices.insert(p.to_owned(), (invoice.id.clone(), reason));
            }
        }
    }

    impl Surroundings for Around {
        fn checkout(&self, reference: &str) -> Option<CheckoutIds> {
            self.sessions.get(reference).cloned()
        }
        fn invoice(&self, payer: &str) -> Option<(String, String)> {
            self.invoices.get(payer).cloned()
        }
    }

    fn charge(extra: serde_json::Value) -> Charge {
        let mut base = json!({
            "id": "ch_3PgafuB7WZ01zgkW0xYcQm1a", "object": "charge", "amount": 2900, "amount_captured": 2900,
            "amount_refunded": 0, "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "captured": true,
            "created": 1_779_321_600, "currency": "usd", "customer": "cus_NffrFeUfNV2Hib", "disputed": false,
            "livemode": true, "metadata": {}, "paid": true, "payment_intent": "pi_3PgafuB7WZ01zgkW0cJv0xYz",
            "refunded": false, "status": "succeeded",
            "billing_details": {"address": null, "email": "buyer@example.com", "name": "Jenny Rosen", "phone": null}
        });
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn a_plain_charge_is_one_payment() {
        let p = payment_from_charge(&charge(json!({})), &Around::default()).unwrap();
        assert_eq!(
            (p.transaction_id.as_str(), p.amount, p.currency.as_str()),
            ("ch_3PgafuB7WZ01zgkW0xYcQm1a", 2900, "USD")
        );
        assert_eq!(p.paid_at, "2026-05-21T00:00:00.000Z");
        assert_eq!(
            (p.customer_id.as_deref(), p.customer_email.as_deref()),
            (Some("cus_NffrFeUfNV2Hib"), Some("buyer@example.com"))
        );
        assert_eq!((p.visitor_id, p.settled, p.renewal), (None, None, false));
    }

    #[test]
    fn failed_and_uncaptured_charges_are_no_payment() {
        assert!(payment_from_charge(&charge(json!({"status": "failed", "paid": false})), &Around::default()).is_none());
        assert!(payment_from_charge(&charge(json!({"captured": false})), &Around::default()).is_none());
    }

    #[test]
    fn visitor_comes_from_charge_then_intent_then_checkout_session() {
        let mut around = Around::default();
        let session: CheckoutSession = serde_json::from_value(json!({
            "id": "cs_1", "object": "checkout.session", "created": 1_779_321_000, "payment_intent": "pi_3PgafuB7WZ01zgkW0cJv0xYz",
            "metadata": {"datafast_visitor_id": "from-session", "datafast_session_id": "s-session"}
        }))
        .unwrap();
        around.add_session(&session);
        let only_session = payment_from_charge(&charge(json!({})), &around).unwrap();
        assert_eq!(
            (only_session.visitor_id.as_deref(), only_session.session_id.as_deref()),
            (Some("from-session"), Some("s-session"))
        );

        let intent = json!({"id": "pi_3PgafuB7WZ01zgkW0cJv0xYz", "object": "payment_intent", "metadata": {"datafast_visitor_id": "from-intent"}});
        let with_intent = payment_from_charge(&charge(json!({"payment_intent": intent})), &around).unwrap();
        assert_eq!(with_intent.visitor_id.as_deref(), Some("from-intent"));
        assert_eq!(with_intent.session_id.as_deref(), Some("s-session"), "each key from wherever it is");

        let on_charge =
            payment_from_charge(&charge(json!({"metadata": {"datafast_visitor_id": " from-charge "}})), &around)
                .unwrap();
        assert_eq!(on_charge.visitor_id.as_deref(), Some("from-charge"));
    }

    #[test]
    fn settlement_refunds_and_renewals() {
        let bt = json!({"id": "txn_1", "object": "balance_transaction", "amount": 2641, "currency": "eur", "fee": 107, "net": 2534});
        let mut around = Around::default();
        let cycle: Invoice = serde_json::from_value(json!({
            "id": "in_1", "object": "invoice", "created": 1_779_321_000, "billing_reason": "subscription_cycle",
            "parent": {"type": "subscription_details", "quote_details": null,
                       "subscription_details": {"metadata": {}, "subscription": "sub_1"}},
            "payments": {"object": "list", "has_more": false, "url": "/v1/invoices/in_1/payments", "data": [
                {"id": "inpay_1", "object": "invoice_payment", "invoice": "in_1", "is_default": true, "status": "paid",
                 "payment": {"type": "payment_intent", "payment_intent": "pi_3PgafuB7WZ01zgkW0cJv0xYz"}}]}
        }))
        .unwrap();
        assert_eq!(cycle.subscription(), Some("sub_1"));
        around.add_invoice(&cycle);
        let p =
            payment_from_charge(&charge(json!({"balance_transaction": bt, "amount_refunded": 900})), &around).unwrap();
        assert_eq!(p.settled, Some(Settlement { amount: 2641, currency: "EUR".into(), fee: 107 }));
        assert_eq!((p.refunded_amount, p.renewal), (900, true));

        // localstripe's older shape: the charge and the subscription on the invoice itself.
        let first: Invoice = serde_json::from_value(json!({"id": "in_0", "created": 1_779_321_000,
            "billing_reason": "subscription_create", "charge": "ch_other", "subscription": "sub_0"}))
        .unwrap();
        assert_eq!(first.subscription(), Some("sub_0"));
        let mut around = Around::default();
        around.add_invoice(&first);
        let other = payment_from_charge(&charge(json!({"id": "ch_other"})), &around).unwrap();
        assert!(!other.renewal, "the first invoice of a subscription is new revenue");
    }
}

/// Subscriptions (read when the key may list them), for MRR.
pub mod subscription;
