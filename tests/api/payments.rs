//! The DataFast-compatible Payments API: validation, minor units, idempotency, deletion.

use rocket::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error};
use revlink::domain::ObjectId;

/// transaction id, amount, currency, refunded amount, visitor, renewal, free trial
type Row = (String, i64, String, i64, Option<String>, bool, bool);

fn rows(app: &TestApp, site: &ObjectId) -> Vec<Row> {
    app.state()
        .db
        .with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT transaction_id, amount, currency, refunded_amount, visitor_id, renewal, free_trial
                 FROM payments WHERE website_id = ?1 ORDER BY transaction_id",
            )?;
            let all = stmt
                .query_map([site], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(all)
        })
        .unwrap()
}

#[rocket::async_test]
async fn records_once_in_minor_units() {
    let app = TestApp::new().await;
    let (_, site, _) = app.owner_with_site();
    let key = app.website_key(&site);
    let body = json!({"amount": 29.99, "currency": "usd", "transaction_id": "tx_1", "datafast_visitor_id": "v-1",
                      "email": "buyer@example.com", "renewal": true, "timestamp": "2026-05-21T10:00:00+02:00"})
    .to_string();

    let first = app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body)).await;
    assert_eq!(first.body, json!({"message": "Payment recorded successfully", "transaction_id": "tx_1"}));
    let again = app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body)).await;
    assert_eq!(again.status.code, 200);
    assert_eq!(again.body["message"], "Duplicate payment ignored: this transaction_id is already recorded");

    for (amount, currency, tx) in [(500.0, "JPY", "tx_2"), (1.234, "KWD", "tx_3"), (0.0, "EUR", "tx_4")] {
        let body = json!({"amount": amount, "currency": currency, "transaction_id": tx, "refunded": tx == "tx_3"});
        assert_eq!(
            app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body.to_string())).await.status.code,
            200
        );
    }
    let stored = rows(&app, &site);
    assert_eq!(stored.len(), 4, "a duplicate is not a second payment");
    assert_eq!(stored[0], ("tx_1".into(), 2999, "USD".into(), 0, Some("v-1".into()), true, false));
    assert_eq!(
        (stored[1].1, stored[2].1, stored[2].3),
        (500, 1234, 1234),
        "JPY has no minor unit, KWD three; refunded"
    );
    assert!(stored[3].6, "an amount of 0 is a free trial");
    let paid_at: String = app
        .state()
        .db
        .with_conn(|c| Ok(c.query_row("SELECT paid_at FROM payments WHERE transaction_id = 'tx_1'", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(paid_at, "2026-05-21T08:00:00.000Z");
}

#[rocket::async_test]
async fn lengths_count_characters_not_bytes() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let path = format!("/api/v1/payments?websiteId={site}");
    // 255 and 500 characters of two bytes each: within the documented limits.
    let body = json!({"amount": 1, "currency": "EUR", "transaction_id": "é".repeat(255), "name": "ü".repeat(500)});
    let ok = app.send(Method::Post, &path, Some(&token), Some(&body.to_string())).await;
    assert_eq!(ok.status.code, 200, "{}", ok.body);
    let body = json!({"amount": 1, "currency": "EUR", "transaction_id": "é".repeat(256)});
    let long = app.send(Method::Post, &path, Some(&token), Some(&body.to_string())).await;
    assert_error(&long, 400, "transaction_id must be at most 255 characters");
    let body = json!({"amount": 1, "currency": "EUR", "transaction_id": "t", "name": "ü".repeat(501)});
    let long = app.send(Method::Post, &path, Some(&token), Some(&body.to_string())).await;
    assert_error(&long, 400, "name must be at most 500 characters");
}

#[rocket::async_test]
async fn bad_input_says_what_to_fix_and_stores_nothing() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let path = format!("/api/v1/payments?websiteId={site}");
    let cases = [
        (
            json!({"currency": "USD", "transaction_id": "t"}),
            "amount is required: a number of at least 0 in major units (e.g. 29.99)",
        ),
        (
            json!({"amount": -1, "currency": "USD", "transaction_id": "t"}),
            "amount must be a number of at least 0 in major units (e.g. 29.99)",
        ),
        (
            json!({"amount": "10", "currency": "USD", "transaction_id": "t"}),
            "amount must be a number of at least 0 in major units (e.g. 29.99), not a string",
        ),
        (
            json!({"amount": 10, "currency": "EURO", "transaction_id": "t"}),
            "currency \"EURO\" is not known: send the ISO 4217 code of a circulating currency, such as USD",
        ),
        (
            json!({"amount": 10, "currency": 840, "transaction_id": "t"}),
            "currency must be a string, the ISO 4217 code of a circulating currency, such as USD; not a number",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": 7}),
            "transaction_id must be a string, not a number",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "refunded": 1}),
            "refunded must be true or false, not a number",
        ),
        (
            json!({"amount": 10, "currency": "USD"}),
            "transaction_id is required: your unique id for this payment (at most 255 characters)",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "renewal": "yes"}),
            "renewal must be true or false, not a string",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "timestamp": "yesterday"}),
            "timestamp must be an ISO 8601 time such as 2026-05-21T10:00:00Z",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "email": 5}),
            "email must be a string, not a number",
        ),
        // The probe's defects: a time whose UTC form overflows, a year-9999 payment, a future one, amounts
        // that made sums wrap, non-circulating codes, NUL characters.
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "timestamp": "9999-12-31T23:59:59-00:01"}),
            "timestamp must be between 1970 and 2099",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "timestamp": "9999-01-01T00:00:00Z"}),
            "timestamp must be between 1970 and 2099",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t", "timestamp": "2090-01-01T00:00:00Z"}),
            "timestamp must not be in the future",
        ),
        (
            json!({"amount": 9_999_999_999_999.99_f64, "currency": "USD", "transaction_id": "t"}),
            "amount must be at most 1000000000 (in major units)",
        ),
        (
            json!({"amount": 10, "currency": "XAU", "transaction_id": "t"}),
            "currency \"XAU\" is not known: send the ISO 4217 code of a circulating currency, such as USD",
        ),
        (
            json!({"amount": 10, "currency": "USD", "transaction_id": "t\u{0}x"}),
            "transaction_id must not contain control characters",
        ),
    ];
    for (body, message) in cases {
        assert_error(&app.send(Method::Post, &path, Some(&token), Some(&body.to_string())).await, 400, message);
    }
    assert_error(
        &app.send(
            Method::Post,
            "/api/v1/payments",
            Some(&token),
            Some(r#"{"amount":1,"currency":"USD","transaction_id":"t"}"#),
        )
        .await,
        400,
        "websiteId is required with an account token: add ?websiteId=<the website's id>",
    );
    assert!(rows(&app, &site).is_empty());
}

#[rocket::async_test]
async fn deletes_by_transaction_visitor_or_range() {
    let app = TestApp::new().await;
    let (_, site, _) = app.owner_with_site();
    let key = app.website_key(&site);
    for (tx, visitor, when) in [
        ("a", "v1", "2026-01-01T00:00:00Z"),
        ("b", "v1", "2026-02-01T00:00:00Z"),
        ("c", "v2", "2026-02-15T00:00:00Z"),
        ("d", "v3", "2026-03-01T00:00:00Z"),
        ("e", "v3", "2026-04-01T00:00:00Z"),
    ] {
        let body = json!({"amount": 10, "currency": "USD", "transaction_id": tx, "datafast_visitor_id": visitor, "timestamp": when});
        app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body.to_string())).await;
    }
    let del = |query: &str| format!("/api/v1/payments?{query}");

    let one = app.send(Method::Delete, &del("tx_id=a"), Some(&key), None).await;
    assert_eq!(
        one.body["data"][0],
        json!({"message": "Payment deleted successfully", "deleted": 1, "transaction_id": "a"})
    );
    assert_error(&app.send(Method::Delete, &del("transaction_id=a"), Some(&key), None).await, 404, "Payment not found");

    let visitor = app
        .send(
            Method::Delete,
            &del("datafast_visitor_id=v3&start=2026-03-15T00:00:00Z&end=2026-12-31T00:00:00Z"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(visitor.body["data"][0]["deleted"], 1);
    assert_eq!(visitor.body["data"][0]["message"], "All payments for visitor deleted successfully within time range");
    assert_eq!(visitor.body["data"][0]["timeRange"]["start"], "2026-03-15T00:00:00.000Z");

    let range =
        app.send(Method::Delete, &del("start=2026-02-01T00:00:00Z&end=2026-02-28T23:59:59Z"), Some(&key), None).await;
    assert_eq!(range.body["data"][0]["deleted"], 2);
    let left: Vec<String> = rows(&app, &site).into_iter().map(|r| r.0).collect();
    assert_eq!(left, ["d"]);

    assert_error(
        &app.send(Method::Delete, &del(""), Some(&key), None).await,
        400,
        "Say what to delete: transaction_id, datafast_visitor_id, or start and end",
    );
    assert_error(
        &app.send(Method::Delete, &del("start=2026-01-01T00:00:00Z"), Some(&key), None).await,
        400,
        "Give both start and end for a time range",
    );
    // The probe's 500: a start whose UTC form is in year 10000 (`+` is `%2B` in a query).
    assert_error(
        &app.send(Method::Delete, &del("start=9999-12-31T23:59:59-00:01&end=9999-12-31T23:59:59Z"), Some(&key), None)
            .await,
        400,
        "start must be between 1970 and 2099",
    );
}

#[rocket::async_test]
async fn payments_page_newest_first_with_a_cursor() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let key = app.website_key(&site);
    for i in 0..5 {
        let body = json!({"amount": 1, "currency": "USD", "transaction_id": format!("t{i}"), "timestamp": format!("2026-05-0{}T00:00:00Z", i + 1)});
        app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body.to_string())).await;
    }
    let base = format!("/api/v1/admin/websites/{site}/payments?limit=2");
    let mut seen = Vec::new();
    let mut url = base.clone();
    loop {
        let page = app.get(&url, &token).await;
        assert_eq!(page.status.code, 200, "{}", page.body);
        seen.extend(
            page.body["data"].as_array().unwrap().iter().map(|p| p["transactionId"].as_str().unwrap().to_owned()),
        );
        match page.header("X-Next-Cursor") {
            Some(next) => url = format!("{base}&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["t4", "t3", "t2", "t1", "t0"]);
    assert_error(
        &app.get(&format!("{base}&cursor=nope"), &token).await,
        400,
        "Invalid cursor: pass back X-Next-Cursor as it came",
    );
    assert_error(
        &app.get(&format!("/api/v1/admin/websites/{site}/payments?limit=500"), &token).await,
        400,
        "limit must be between 1 and 100",
    );
}

#[rocket::async_test]
async fn revenue_sums_in_the_website_currency_per_local_day() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let key = app.website_key(&site);
    for (tx, amount, currency, when, renewal, refunded, visitor) in [
        ("a", 100.0, "USD", "2026-05-01T10:00:00Z", false, false, Some("v1")),
        ("b", 50.0, "USD", "2026-05-02T10:00:00Z", true, true, None),
        ("c", 70.0, "EUR", "2026-05-02T11:00:00Z", false, false, None),
        ("d", 10.0, "USD", "2026-06-01T10:00:00Z", false, false, None),
    ] {
        let body = json!({"amount": amount, "currency": currency, "transaction_id": tx, "timestamp": when,
                          "renewal": renewal, "refunded": refunded, "datafast_visitor_id": visitor});
        app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body.to_string())).await;
    }
    let r = app.get(&format!("/api/v1/admin/websites/{site}/revenue?start=2026-05-01&end=2026-05-03"), &token).await;
    let d = &r.body["data"][0];
    assert_eq!(
        (d["currency"].as_str(), d["gross"].as_i64(), d["refunds"].as_i64(), d["net"].as_i64()),
        (Some("USD"), Some(15000), Some(5000), Some(10000))
    );
    assert_eq!(
        (d["payments"].as_u64(), d["newPayments"].as_u64(), d["renewalPayments"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (d["attributedPayments"].as_u64(), d["attributedRevenue"].as_i64(), d["otherCurrencyPayments"].as_u64()),
        (Some(1), Some(10000), Some(1))
    );
    let series = d["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    assert_eq!(
        series[1],
        json!({"date": "2026-05-02", "gross": 5000, "refunds": 5000, "disputes": 0, "net": 0, "payments": 1})
    );
    assert_error(
        &app.get(&format!("/api/v1/admin/websites/{site}/revenue?start=yesterday"), &token).await,
        400,
        "start must be a date such as 2026-05-21",
    );
}

#[rocket::async_test]
async fn query_parameters_are_strict() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let admin = format!("/api/v1/admin/websites/{site}");
    let cases = [
        (format!("{admin}/payments?limit=abc"), "limit must be a whole number from 1 to 100"),
        (format!("{admin}/payments?limit=5&limit=6"), "Query parameter limit was sent more than once; send it once"),
        (format!("{admin}/payments?limit=0"), "limit must be between 1 and 100"),
        (
            format!("{admin}/revenue?start=2026-05-01&start=2026-05-02"),
            "Query parameter start was sent more than once; send it once",
        ),
    ];
    for (path, message) in &cases {
        assert_error(&app.get(path, &token).await, 400, message);
    }
    let twice = app
        .send(
            Method::Delete,
            &format!("/api/v1/payments?websiteId={site}&websiteId={site}&transaction_id=t"),
            Some(&token),
            None,
        )
        .await;
    assert_error(&twice, 400, "Query parameter websiteId was sent more than once; send it once");
    let tx_twice = app
        .send(
            Method::Delete,
            &format!("/api/v1/payments?websiteId={site}&transaction_id=a&transaction_id=b"),
            Some(&token),
            None,
        )
        .await;
    assert_error(&tx_twice, 400, "Query parameter transaction_id was sent more than once; send it once");
    assert_eq!(app.get(&format!("{admin}/payments?limit=5"), &token).await.status.code, 200);
}
