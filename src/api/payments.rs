//! The DataFast-compatible Payments API (`/api/v1/payments`): payments from any provider land in
//! the same table as imported ones, idempotent on `transaction_id`. A `df_` key names its website;
//! an account token adds `?websiteId=`.

use rocket::serde::json::Json;
use rocket::{Route, State, delete, post, routes};
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::api::body::{JsonBody, kind, text};
use rocket::form::Errors;

use crate::api::doc::{Authenticated, CurrencyCode, JsonBody as BodyErrors, PaidAt, WebsiteQuery, WebsiteScoped};
use crate::api::query::param;
use crate::api::{ApiResult, one};
use crate::auth::{PaymentsWrite, QueryWebsiteAccess};
use crate::domain::money::circulating;
use crate::domain::payment::{NewPayment, Recorded, Selection};
use crate::domain::timestamp;
use crate::error::Error;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![create_payment, delete_payments]
}

/// `POST /api/v1/payments` answers a plain object, without the `status` envelope (as DataFast does).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRecorded {
    message: &'static str,
    transaction_id: String,
}

/// The longest string field the Payments API takes.
const MAX_TEXT: usize = 500;

fn optional_string(body: &Map<String, Value>, names: &[&str]) -> Result<Option<String>, Error> {
    text(body, names, MAX_TEXT)
}

fn flag(body: &Map<String, Value>, name: &str) -> Result<bool, Error> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::BadRequest(format!("{name} must be true or false, not {}", kind(other)))),
    }
}

/// An ISO 8601 time, normalised to the stored form (UTC, milliseconds).
fn parse_time(raw: &str, name: &str) -> Result<String, Error> {
    timestamp::parse_instant(raw, name).map(timestamp::format_time).map_err(Error::BadRequest)
}

/// A payment's time: as `parse_time`, and not in the future (a day of clock skew aside).
fn parse_paid_at(raw: &str) -> Result<String, Error> {
    let at = timestamp::parse_instant(raw, "timestamp").map_err(Error::BadRequest)?;
    if at > OffsetDateTime::now_utc() + time::Duration::DAY {
        return Err(Error::BadRequest("timestamp must not be in the future".into()));
    }
    Ok(timestamp::format_time(at))
}

/// The largest amount one payment may have, in major units of its currency.
pub const MAX_AMOUNT: f64 = 1_000_000_000.0;

/// Major units (29.99) to minor units (2999) of the currency.
fn minor_units(amount: f64, currency: iso_currency::Currency) -> Result<i64, Error> {
    if amount > MAX_AMOUNT {
        return Err(Error::BadRequest("amount must be at most 1000000000 (in major units)".into()));
    }
    let scale = 10f64.powi(i32::from(currency.exponent().unwrap_or(0)));
    let minor = (amount * scale).round();
    if !(0.0..1e15).contains(&minor) {
        return Err(Error::BadRequest("amount must be a number of at least 0 in major units (e.g. 29.99)".into()));
    }
    // In range and rounded: the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    Ok(minor as i64)
}

const AMOUNT: &str = "a number of at least 0 in major units (e.g. 29.99)";
const CURRENCY: &str = "the ISO 4217 code of a circulating currency, such as USD";
const TRANSACTION_ID: &str = "your unique id for this payment (at most 255 characters)";

fn parse_payment(body: JsonBody) -> Result<NewPayment, Error> {
    let body = body.object().map_err(|e| match e {
        // Where the JSON broke is worth more than a list of the fields.
        Error::BadRequest(m) if m.starts_with("Request body is not valid JSON") => Error::BadRequest(m),
        _ => Error::BadRequest("Send a JSON object with amount, currency and transaction_id".into()),
    })?;
    let amount = match body.get("amount") {
        None | Some(Value::Null) => return Err(Error::BadRequest(format!("amount is required: {AMOUNT}"))),
        Some(Value::Number(n)) => n.as_f64().filter(|a| a.is_finite() && *a >= 0.0),
        Some(other) => return Err(Error::BadRequest(format!("amount must be {AMOUNT}, not {}", kind(other)))),
    }
    .ok_or_else(|| Error::BadRequest(format!("amount must be {AMOUNT}")))?;
    let currency = match body.get("currency") {
        None | Some(Value::Null) => return Err(Error::BadRequest(format!("currency is required: {CURRENCY}"))),
        Some(Value::String(code)) => circulating(code)
            .ok_or_else(|| Error::BadRequest(format!("currency {code:?} is not known: send {CURRENCY}")))?,
        Some(other) => {
            return Err(Error::BadRequest(format!("currency must be a string, {CURRENCY}; not {}", kind(other))));
        }
    };
    let transaction_id = optional_string(&body, &["transaction_id"])?
        .ok_or_else(|| Error::BadRequest(format!("transaction_id is required: {TRANSACTION_ID}")))?;
    if transaction_id.chars().count() > 255 {
        return Err(Error::BadRequest("transaction_id must be at most 255 characters".into()));
    }
    let amount = minor_units(amount, currency)?;
    let refunded = flag(&body, "refunded")?;
    let paid_at = match optional_string(&body, &["timestamp"])? {
        Some(raw) => parse_paid_at(&raw)?,
        None => timestamp::now(),
    };
    Ok(NewPayment {
        transaction_id,
        amount,
        currency: currency.code().to_owned(),
        refunded_amount: if refunded { amount } else { 0 },
        disputed: false,
        settled: None,
        renewal: flag(&body, "renewal")?,
        free_trial: flag(&body, "is_free_trial")? || amount == 0,
        visitor_id: optional_string(&body, &["datafast_visitor_id", "visitorId"])?,
        session_id: None,
        customer_id: optional_string(&body, &["customer_id"])?,
        customer_email: optional_string(&body, &["customer_email", "email"])?,
        customer_name: optional_string(&body, &["customer_name", "name"])?,
        paid_at,
    })
}

/// The body `parse_payment` reads (documentation only: the parser takes the JSON itself, so that each
/// field's error names it). Strings are trimmed, at most 500 characters, without control characters.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PaymentBody {
    /// In major units of `currency` (29.99).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    amount: f64,
    #[schema(inline)]
    currency: CurrencyCode,
    /// Your unique id for this payment: posting it again is answered, not recorded twice.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    transaction_id: String,
    /// The visitor to attribute the payment to (`visitorId` is read too).
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    datafast_visitor_id: Option<String>,
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    customer_id: Option<String>,
    /// Also read as `customer_email`.
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    email: Option<String>,
    /// Also read as `customer_name`.
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    name: Option<String>,
    renewal: Option<bool>,
    /// The whole amount was refunded.
    refunded: Option<bool>,
    is_free_trial: Option<bool>,
    #[schema(inline, value_type = Option<PaidAt>)]
    timestamp: Option<String>,
}

/// Records a payment; posting the same `transaction_id` again is answered, not recorded twice.
#[utoipa::path(context_path = "/api/v1", tag = "payments", security(("bearer" = [])),
    params(WebsiteQuery),
    request_body = PaymentBody,
    responses((status = 200, description = "recorded, or a duplicate answered", body = PaymentRecorded), Authenticated,
        WebsiteScoped, BodyErrors))]
#[post("/payments", data = "<body>")]
pub async fn create_payment(
    access: QueryWebsiteAccess<PaymentsWrite>,
    body: JsonBody,
    app: &State<App>,
) -> Result<Json<PaymentRecorded>, Error> {
    let payment = parse_payment(body)?;
    let transaction_id = payment.transaction_id.clone();
    let recorded = service::payments::record(app, &access.website_id, payment).await?;
    let message = match recorded {
        Recorded::New => "Payment recorded successfully",
        Recorded::Duplicate => "Duplicate payment ignored: this transaction_id is already recorded",
    };
    Ok(Json(PaymentRecorded { message, transaction_id }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsDeleted {
    message: String,
    deleted: usize,
    #[serde(skip_serializing_if = "Option::is_none", rename = "transaction_id")]
    transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "datafast_visitor_id")]
    datafast_visitor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_range: Option<TimeRange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeRange {
    start: String,
    end: String,
}

/// Deletes by `transaction_id` (or `tx_id`), by `datafast_visitor_id` (optionally within
/// `start`/`end`), or everything within `start`/`end`.
#[utoipa::path(context_path = "/api/v1", tag = "payments", security(("bearer" = [])),
    params(WebsiteQuery,
        ("transaction_id" = Option<String>, Query, description = "your id of the payment"),
        ("tx_id" = Option<String>, Query, description = "the same as transaction_id"),
        ("datafast_visitor_id" = Option<String>, Query, description = "every payment of this visitor"),
        ("start" = Option<String>, Query, format = DateTime, example = "2026-05-01T00:00:00Z",
            description = "with `end`: the payments paid in [start, end] (RFC 3339, 1970–2099)"),
        ("end" = Option<String>, Query, format = DateTime, example = "2026-05-31T23:59:59Z",
            description = "with `start` (RFC 3339, 1970–2099)")),
    // 404 also: no payment with that transaction_id.
    responses((status = 200, description = "what was deleted", body = crate::api::Success<PaymentsDeleted>), Authenticated,
        WebsiteScoped))]
#[delete("/payments?<transaction_id>&<tx_id>&<datafast_visitor_id>&<start>&<end>")]
pub async fn delete_payments(
    access: QueryWebsiteAccess<PaymentsWrite>,
    transaction_id: Option<Result<&str, Errors<'_>>>,
    tx_id: Option<Result<&str, Errors<'_>>>,
    datafast_visitor_id: Option<Result<&str, Errors<'_>>>,
    start: Option<Result<&str, Errors<'_>>>,
    end: Option<Result<&str, Errors<'_>>>,
    app: &State<App>,
) -> ApiResult<PaymentsDeleted> {
    let transaction_id = param("transaction_id", transaction_id, "your id of the payment")?;
    let tx_id = param("tx_id", tx_id, "your id of the payment")?;
    let datafast_visitor_id = param("datafast_visitor_id", datafast_visitor_id, "a visitor id")?;
    let time = "an ISO 8601 time such as 2026-05-21T10:00:00Z";
    let (start, end) = (param("start", start, time)?, param("end", end, time)?);
    let range = match (start, end) {
        (Some(s), Some(e)) => Some((parse_time(s, "start")?, parse_time(e, "end")?)),
        (None, None) => None,
        _ => return Err(Error::BadRequest("Give both start and end for a time range".into())),
    };
    let answer =
        |message: &str, transaction_id: Option<&str>, visitor: Option<&str>, range: Option<&(String, String)>| {
            PaymentsDeleted {
                message: message.to_owned(),
                deleted: 0,
                transaction_id: transaction_id.map(str::to_owned),
                datafast_visitor_id: visitor.map(str::to_owned),
                time_range: range.map(|(s, e)| TimeRange { start: s.clone(), end: e.clone() }),
            }
        };
    let (selection, mut answer) = match (tx_id.or(transaction_id), datafast_visitor_id, range) {
        (Some(id), _, _) => {
            (Selection::Transaction(id.to_owned()), answer("Payment deleted successfully", Some(id), None, None))
        }
        (None, Some(visitor), None) => (
            Selection::Visitor(visitor.to_owned(), None),
            answer("All payments for visitor deleted successfully", None, Some(visitor), None),
        ),
        (None, Some(visitor), Some(range)) => (
            Selection::Visitor(visitor.to_owned(), Some(range.clone())),
            answer(
                "All payments for visitor deleted successfully within time range",
                None,
                Some(visitor),
                Some(&range),
            ),
        ),
        (None, None, Some(range)) => (
            Selection::Range(range.0.clone(), range.1.clone()),
            answer("Payments deleted successfully within time range", None, None, Some(&range)),
        ),
        (None, None, None) => {
            return Err(Error::BadRequest(
                "Say what to delete: transaction_id, datafast_visitor_id, or start and end".into(),
            ));
        }
    };
    answer.deleted = service::payments::delete(app, &access.website_id, selection, access.access.actor).await?;
    one(answer)
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Any JSON value, a few levels deep.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const FIELDS: [&str; 13] = [
        "amount",
        "currency",
        "transaction_id",
        "datafast_visitor_id",
        "visitorId",
        "customer_id",
        "email",
        "customer_email",
        "name",
        "renewal",
        "refunded",
        "is_free_trial",
        "timestamp",
    ];

    /// Bodies with the fields the parser reads, each with a plausible or an arbitrary value.
    fn payment_body() -> impl Strategy<Value = Value> {
        let amount =
            prop_oneof![any::<f64>().prop_map(|f| json!(f)), (0.0..2e9f64).prop_map(|f| json!(f)), json_value()];
        let currency = prop_oneof![
            prop::sample::select(vec!["USD", "eur", "JPY", "BHD", "CLF", "XXX", "usn", ""]).prop_map(Value::from),
            json_value()
        ];
        let text =
            prop_oneof![".{0,20}".prop_map(Value::String), "[a-z0-9]{1,300}".prop_map(Value::String), json_value()];
        let time =
            prop_oneof!["(19|20|21)[0-9]{2}-0[1-9]-1[0-9]T10:00:00(Z|\\+02:00)".prop_map(Value::String), json_value()];
        (amount, currency, text.clone(), text.clone(), text, time, prop::collection::vec(any::<bool>(), 13)).prop_map(
            |(amount, currency, id, visitor, email, time, keep)| {
                let values = [
                    amount,
                    currency,
                    id,
                    visitor.clone(),
                    visitor,
                    Value::from("cus_1"),
                    email.clone(),
                    email,
                    Value::from("Ada"),
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Null,
                    time,
                ];
                let map =
                    FIELDS.iter().zip(values).zip(keep).filter(|(_, k)| *k).map(|((f, v), _)| ((*f).to_owned(), v));
                Value::Object(map.collect())
            },
        )
    }

    fn check(body: Value) -> Result<(), TestCaseError> {
        if let Ok(payment) = parse_payment(JsonBody::Value(body)) {
            let currency = circulating(&payment.currency).expect("a circulating currency");
            let cap = MAX_AMOUNT * 10f64.powi(i32::from(currency.exponent().unwrap_or(0)));
            #[allow(clippy::cast_precision_loss)] // amounts are far below 2^53
            let amount = payment.amount as f64;
            prop_assert!(payment.amount >= 0 && amount <= cap, "{} {}", payment.amount, payment.currency);
            prop_assert!(payment.refunded_amount == 0 || payment.refunded_amount == payment.amount);
            prop_assert!(!payment.transaction_id.is_empty() && payment.transaction_id.chars().count() <= 255);
            let year: i32 = payment.paid_at[..4].parse().expect("a stored time");
            prop_assert!(timestamp::YEARS.contains(&year), "{}", payment.paid_at);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_on_arbitrary_json(body in json_value()) {
            check(body)?;
        }

        #[test]
        fn accepted_payments_are_within_the_cap(body in payment_body()) {
            check(body)?;
        }
    }
}
