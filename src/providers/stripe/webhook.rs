//! Stripe's webhook events: the `Stripe-Signature` check exactly as Stripe specifies it (HMAC-SHA256 of
//! `{t}.{raw body}` with the endpoint's signing secret, any of the `v1` signatures, a tolerance on `t`), and what an
//! event asks the import to do. An event's numbers are never used: it only names what to read again through the
//! API. Pure: the caller passes the time and the secret.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::providers::stripe::objects::{Expandable, HasId};

/// How far `t` may be from this server's clock, either way, in seconds (Stripe's libraries' default).
pub const TOLERANCE_SECS: i64 = 300;

/// The events to send to revlink's endpoint (any other `charge.*` event is taken too; other types are
/// acknowledged and ignored).
pub const EVENTS: [&str; 12] = [
    "charge.succeeded",
    "charge.captured",
    "charge.updated",
    "charge.refunded",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "invoice.paid",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

/// Why a delivery is refused (400, nothing processed). No message carries the secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Missing Stripe-Signature header")]
    Missing,
    #[error("Malformed Stripe-Signature header: expected t=<unix time>,v1=<hex signature>[,v1=…]")]
    Malformed,
    #[error(
        "No v1 signature in the Stripe-Signature header matches this payload signed with the website's webhook \
         signing secret"
    )]
    Mismatch,
    #[error(
        "The Stripe-Signature timestamp is more than {TOLERANCE_SECS} seconds away from this server's time; \
         check the server's clock"
    )]
    Stale,
}

/// The parts of the header that count: the raw `t` (signed as sent) and every `v1` signature.
struct SignatureHeader<'a> {
    timestamp: &'a str,
    seconds: i64,
    signatures: Vec<&'a str>,
}

fn parse_header(header: &str) -> Result<SignatureHeader<'_>, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(SignatureError::Malformed),
            "v1" => signatures.push(value),
            // `v0` (test-mode signatures of the old scheme) and anything Stripe adds later are not ours to check.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let well_formed = !timestamp.is_empty() && timestamp.len() <= 12 && timestamp.bytes().all(|b| b.is_ascii_digit());
    let seconds = if well_formed { timestamp.parse().map_err(|_| SignatureError::Malformed)? } else { -1 };
    if seconds < 0 || signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    Ok(SignatureHeader { timestamp, seconds, signatures })
}

/// Checks `header` against `payload` (the body's exact bytes) and `secret` at unix time `now`: one `v1` must be the
/// HMAC-SHA256 of `{t}.{payload}`, compared in constant time, and `t` within `TOLERANCE_SECS` of `now`.
pub fn verify_signature(secret: &[u8], header: Option<&str>, payload: &[u8], now: i64) -> Result<(), SignatureError> {
    let header = parse_header(header.ok_or(SignatureError::Missing)?)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(header.timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    let expected = mac.finalize().into_bytes();
    // Every candidate is compared, so the time taken says nothing about which one (if any) matched.
    let matched = header.signatures.iter().fold(subtle::Choice::from(0), |any, candidate| {
        let decoded = hex::decode(candidate).unwrap_or_default();
        let equal = if decoded.len() == expected.len() { expected.as_slice().ct_eq(&decoded) } else { 0.into() };
        any | equal
    });
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    if (now - header.seconds).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// `{"id":"evt_…","object":"event","type":"charge.succeeded","data":{"object":{…}},…}`: only what names the
/// object to read again is kept.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

/// What an event asks the import to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read this charge again (its payment, refunds, dispute flag).
    RereadCharge(String),
    /// Read this charge again, and sync the website (what the charge alone does not carry).
    RereadChargeAndSync(String),
    /// Sync the website incrementally (subscriptions, invoices).
    Sync,
    /// Not an event revlink uses: acknowledged and dropped.
    Ignore,
}

/// A Stripe id as revlink puts it in a path: 1 to 255 letters, digits and underscores.
fn is_stripe_id(id: &str) -> bool {
    (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Event {
    /// Parses a verified payload; the message says what is wrong with it.
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        let event: Self =
            serde_json::from_slice(payload).map_err(|e| format!("The payload is not a Stripe event: {e}"))?;
        if !event.id.starts_with("evt_") || !is_stripe_id(&event.id) {
            return Err("The payload is not a Stripe event: its id is not an evt_ id".into());
        }
        Ok(event)
    }

    /// The charge the event's object is (a charge) or belongs to (a refund, a dispute).
    fn charge_id(&self) -> Option<String> {
        let object = &self.data.object;
        let id = match object["object"].as_str()? {
            "charge" => object["id"].as_str(),
            // `charge` is an id, or the charge itself when expanded.
            "refund" | "dispute" => object["charge"].as_str().or_else(|| object["charge"]["id"].as_str()),
            _ => None,
        }?;
        is_stripe_id(id).then(|| id.to_owned())
    }

    pub fn action(&self) -> Action {
        let kind = self.kind.as_str();
        let is_charge_event = kind.starts_with("charge.");
        if is_charge_event {
            return match self.charge_id() {
                // Disputes have their own list, read by the sync.
                Some(charge) if kind.starts_with("charge.dispute.") => Action::RereadChargeAndSync(charge),
                Some(charge) => Action::RereadCharge(charge),
                // A charge event that names no charge (a refund without one): the sync finds it.
                None => Action::Sync,
            };
        }
        if kind == "invoice.paid" || kind.starts_with("customer.subscription.") {
            return Action::Sync;
        }
        Action::Ignore
    }
}

/// An invoice payment as the re-read of a new charge lists it (`GET /v1/invoice_payments?payment[payment_intent]=…`
/// with `expand[]=data.invoice`): the way from a payment intent to the invoice it paid, since charges and payment
/// intents no longer name their invoice (API versions from `2025-03-31.basil` on).
#[derive(Debug, Clone, Deserialize)]
pub struct InvoicePayment {
    pub invoice: Expandable<PaidInvoice>,
    /// `{"type":"payment_intent","payment_intent":"pi_…"}` (the intent may be expanded).
    #[serde(default)]
    payment: Value,
}

impl InvoicePayment {
    /// Whether this is the payment of `intent` (a server that ignores the list's filter is not believed).
    pub fn pays(&self, intent: &str) -> bool {
        let paid_by = &self.payment["payment_intent"];
        paid_by.as_str().or_else(|| paid_by["id"].as_str()) == Some(intent)
    }
}

/// The invoice of an `InvoicePayment`: its billing reason, and the subscription it bills.
#[derive(Debug, Clone, Deserialize)]
pub struct PaidInvoice {
    pub id: String,
    pub billing_reason: Option<String>,
    /// `parent.subscription_details.subscription`: an id, or the subscription when expanded.
    #[serde(default)]
    parent: Value,
}

impl HasId for PaidInvoice {
    fn id(&self) -> &str {
        &self.id
    }
}

impl PaidInvoice {
    /// The subscription the invoice bills, if any.
    pub fn subscription(&self) -> Option<&str> {
        let subscription = &self.parent["subscription_details"]["subscription"];
        subscription.as_str().or_else(|| subscription["id"].as_str()).filter(|id| is_stripe_id(id))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b";
    const NOW: i64 = 1_779_321_600;

    fn sign(secret: &[u8], t: i64, payload: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_signature_made_as_stripe_makes_it_passes() {
        let payload = br#"{"id":"evt_1","object":"event"}"#;
        let header = format!("t={NOW},v1={},v0={}", sign(SECRET, NOW, payload), "ab".repeat(32));
        assert_eq!(verify_signature(SECRET, Some(&header), payload, NOW), Ok(()));
        assert_eq!(verify_signature(SECRET, Some(&header), payload, NOW + TOLERANCE_SECS), Ok(()));
        assert_eq!(verify_signature(SECRET, Some(&header), payload, NOW - TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn any_v1_may_match_during_a_secret_rotation() {
        let payload = b"{}";
        let old = sign(b"whsec_oldoldoldoldold", NOW, payload);
        let new = sign(SECRET, NOW, payload);
        for header in [format!("t={NOW},v1={old},v1={new}"), format!("t={NOW}, v1={new}, v1={old}")] {
            assert_eq!(verify_signature(SECRET, Some(&header), payload, NOW), Ok(()), "{header}");
        }
        let only_old = format!("t={NOW},v1={old}");
        assert_eq!(verify_signature(SECRET, Some(&only_old), payload, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn wrong_secret_altered_body_or_other_timestamp_do_not_match() {
        let payload = br#"{"amount":2900}"#;
        let good = sign(SECRET, NOW, payload);
        let cases = [
            (format!("t={NOW},v1={}", sign(b"whsec_anotherSecretEntirely", NOW, payload)), &payload[..]),
            (format!("t={NOW},v1={good}"), br#"{"amount":2901}"#),
            (format!("t={},v1={good}", NOW - 1), &payload[..]),
            (format!("t={NOW},v1={}", &good[..62]), &payload[..]),
            (format!("t={NOW},v1=zz{}", &good[2..]), &payload[..]),
            (format!("t={NOW},v0={good},v1=00"), &payload[..]),
        ];
        for (header, body) in cases {
            assert_eq!(verify_signature(SECRET, Some(&header), body, NOW), Err(SignatureError::Mismatch), "{header}");
        }
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused_even_when_signed() {
        let payload = b"{}";
        for t in [NOW - TOLERANCE_SECS - 1, NOW + TOLERANCE_SECS + 1, 0] {
            let header = format!("t={t},v1={}", sign(SECRET, t, payload));
            assert_eq!(verify_signature(SECRET, Some(&header), payload, NOW), Err(SignatureError::Stale), "{t}");
        }
    }

    #[test]
    fn malformed_headers_are_refused_before_any_check() {
        let sig = sign(SECRET, NOW, b"{}");
        assert_eq!(verify_signature(SECRET, None, b"{}", NOW), Err(SignatureError::Missing));
        for header in [
            String::new(),
            format!("v1={sig}"),
            format!("t={NOW}"),
            format!("t={NOW},v0={sig}"),
            format!("t=abc,v1={sig}"),
            format!("t=-5,v1={sig}"),
            format!("t={NOW},t={NOW},v1={sig}"),
            format!("t={NOW};v1={sig}"),
            format!("t={NOW},v1{sig}"),
            format!("t=99999999999999999999,v1={sig}"),
        ] {
            assert_eq!(verify_signature(SECRET, Some(&header), b"{}", NOW), Err(SignatureError::Malformed), "{header}");
        }
    }

    fn event(kind: &str, object: Value) -> Event {
        let payload = json!({"id": "evt_3PgafuB7WZ01zgkW1a2b3c4d", "object": "event", "api_version": "2026-02-25.clover",
            "created": NOW, "data": {"object": object}, "livemode": false, "pending_webhooks": 1,
            "request": {"id": "req_1", "idempotency_key": null}, "type": kind});
        Event::parse(payload.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn charge_refund_and_dispute_events_name_their_charge() {
        let charge = json!({"id": "ch_3PgafuB7WZ01zgkW0xYcQm1a", "object": "charge", "amount": 2900});
        let ch = || "ch_3PgafuB7WZ01zgkW0xYcQm1a".to_owned();
        assert_eq!(event("charge.succeeded", charge.clone()).action(), Action::RereadCharge(ch()));
        assert_eq!(event("charge.refunded", charge.clone()).action(), Action::RereadCharge(ch()));
        let refund = json!({"id": "re_1", "object": "refund", "charge": "ch_3PgafuB7WZ01zgkW0xYcQm1a"});
        assert_eq!(event("charge.refund.updated", refund).action(), Action::RereadCharge(ch()));
        let dispute = json!({"id": "du_1", "object": "dispute", "charge": charge, "status": "lost"});
        assert_eq!(event("charge.dispute.closed", dispute).action(), Action::RereadChargeAndSync(ch()));
        let no_charge = json!({"id": "re_2", "object": "refund", "charge": null});
        assert_eq!(event("charge.refund.updated", no_charge).action(), Action::Sync);
        let odd_id = json!({"id": "ch_../../v1/balance", "object": "charge"});
        assert_eq!(event("charge.succeeded", odd_id).action(), Action::Sync, "never put in a path");
    }

    #[test]
    fn invoices_and_subscriptions_sync_and_the_rest_is_ignored() {
        assert_eq!(event("invoice.paid", json!({"id": "in_1", "object": "invoice"})).action(), Action::Sync);
        let subscription = json!({"id": "sub_1", "object": "subscription"});
        assert_eq!(event("customer.subscription.updated", subscription.clone()).action(), Action::Sync);
        assert_eq!(event("customer.subscription.deleted", subscription).action(), Action::Sync);
        assert_eq!(event("invoice.created", json!({"id": "in_1", "object": "invoice"})).action(), Action::Ignore);
        assert_eq!(event("customer.created", json!({"id": "cus_1", "object": "customer"})).action(), Action::Ignore);
    }

    #[test]
    fn an_invoice_payment_names_its_invoice_and_subscription() {
        let row: InvoicePayment = serde_json::from_value(json!({
            "id": "inpay_1", "object": "invoice_payment", "amount_paid": 2900, "currency": "usd", "is_default": true,
            "status": "paid", "payment": {"type": "payment_intent", "payment_intent": "pi_1"},
            "invoice": {"id": "in_1", "object": "invoice", "billing_reason": "subscription_create",
                "parent": {"type": "subscription_details", "quote_details": null,
                    "subscription_details": {"metadata": {}, "subscription": "sub_1"}}}
        }))
        .unwrap();
        let invoice = row.invoice.object().unwrap();
        assert_eq!((invoice.id.as_str(), invoice.billing_reason.as_deref()), ("in_1", Some("subscription_create")));
        assert_eq!(invoice.subscription(), Some("sub_1"));
        assert!(row.pays("pi_1") && !row.pays("pi_2"));
        let one_off: InvoicePayment =
            serde_json::from_value(json!({"invoice": {"id": "in_2", "billing_reason": "manual", "parent": null}}))
                .unwrap();
        assert_eq!(one_off.invoice.object().unwrap().subscription(), None);
        let unexpanded: InvoicePayment = serde_json::from_value(json!({"invoice": "in_3"})).unwrap();
        assert_eq!(unexpanded.invoice.id(), "in_3");
    }

    #[test]
    fn a_payload_that_is_not_an_event_is_refused() {
        assert!(Event::parse(b"not json").is_err());
        assert!(Event::parse(br#"{"id":"evt_1","type":"charge.succeeded"}"#).is_err(), "no data");
        assert!(Event::parse(br#"{"id":"ch_1","type":"x","data":{"object":{}}}"#).is_err(), "not an evt_ id");
        assert!(Event::parse(br#"{"id":"evt_1","type":"x","data":{"object":{}}}"#).is_ok());
    }
}
