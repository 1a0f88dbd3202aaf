//! Twenty-five subscriptions of 23 customers from December 2025 to June 2026 (now: 20 June, UTC, website in
//! USD), and their figures computed by hand. Prices (USD cents): Basic 1,000 a month, Pro 3,000 a month, Pro yearly
//! 30,000 a year (2,500 a month), Team 800 a seat a month, Weekly 300 a week (300 × 52 / 12 = 1,300 a month), Daily
//! 100 a day (100 × 365 / 12 = 3,041.67 → 3,042), Quarterly 9,000 every 3 months (3,000 a month).
//!
//! Each customer's MRR at the end of each month (Jun: on 20 June), and why:
//!
//! | customer | Dec | Jan | Feb | Mar | Apr | May | Jun | |
//! |---|---|---|---|---|---|---|---|---|
//! | c1 | 1000 | 1000 | 1000 | 2300 | 2300 | 2300 | 2300 | Basic; adds Weekly on 15 Mar: expansion +1,300 |
//! | c2 | | 3000 | 3000 | 3000 | 3000 | 3000 | 3000 | Pro from 15 Jan |
//! | c3 | | | 2500 | 2500 | 2500 | 2500 | 2500 | Pro yearly from 3 Feb |
//! | c4 | | 2400 | 2400 | 4000 | 4000 | 1600 | 1600 | Team ×3; ×5 seen 10 Mar (+1,600); ×2 seen 12 May (−2,400) |
//! | c5 | | 1000 | 1000 | 1000 | 3000 | 3000 | 3000 | Basic; upgraded to Pro mid-period, seen 16 Apr (+2,000) |
//! | c6 | 3000 | 3000 | 3000 | 1000 | 1000 | 1000 | 1000 | Pro; downgraded to Basic, seen 20 Mar (−2,000) |
//! | c7 | | | 0 | 1000 | 1000 | 1000 | 1000 | Basic, trial 10 Feb – 10 Mar |
//! | c8 | | | | | 0 | 0 | 0 | trial 1–15 Apr, canceled when it ended: never counted |
//! | c9 | | 2400 | 2400 | 2400 | 2400 | 2400 | 2400 | Pro with a forever 20 % coupon |
//! | c10 | | | | 3000 | 3000 | 3000 | 3000 | Pro with a once 50 % coupon: MRR unaffected |
//! | c11 | | | 2000 | 2000 | 2000 | 2000 | 2000 | Pro yearly, forever 60.00 off each invoice (−500 a month) |
//! | c12 | 1000 | 1000 | 1000 | 1000 | 0 | 0 | 0 | Basic, canceled 20 Mar at period end, ended 5 Apr |
//! | c13 | 3000 | 3000 | 3000 | 3000 | 3000 | 0 | 0 | Pro; past due seen 25 Apr (counts), unpaid seen 20 May, period from 20 May |
//! | c14 | | 1000 | 0 | 0 | 3000 | 3000 | 3000 | Basic 10 Jan – 14 Feb; Pro from 2 Apr: reactivated |
//! | c16 | | 0 | 0 | 0 | 0 | 0 | 0 | metered price only |
//! | c17 | | | 1000 | 1000 | 1000 | 1000 | 1000 | Basic + a metered price |
//! | c18 | | 0 | 2200 | 2200 | 2200 | 2200 | 2200 | 20.00 EUR a month from 1 Feb 00:00, settled at 1.1 |
//! | c19 | | | | | | | | 15.00 GBP a month, no settlement rate: apart |
//! | c20 | | | | | | 3042 | 3042 | Daily from 5 May |
//! | c21 | | | | | | | 3000 | Quarterly from 2 Jun |
//! | c22 | | | | 0 | 0 | 0 | 0 | incomplete: never paid |
//! | c23 | | 1000 | 1000 | 1000 | 1000 | 1000 | 0 | Basic 20 Jan – 10 Jun |
//! | c24 | | 3000 | 3000 | 3000 | 0 | 0 | 0 | Pro from 12 Jan, first seen 1 Jun unpaid, its period from 12 Apr (inferred) |
//!
//! Per month (MRR; movements; active subscribers; customer churn = churned ÷ (active at start + started);
//! revenue churn = (churned + contraction) ÷ MRR at start):
//!
//! - Dec: 8,000 (c1, c6, c12, c13); 4 subscribers.
//! - Jan: 21,800 = 8,000 + new 13,800 (c2 3,000, c4 2,400, c5 1,000, c9 2,400, c14 1,000, c23 1,000, c24 3,000);
//!   11 subscribers; churn 0 / 11 = 0 %; revenue churn 0 %.
//! - Feb: 28,500 = 21,800 + new 7,700 (c3, c11, c17, c18) − churned 1,000 (c14); 14; 1 / 15 = 6.67 %;
//!   1,000 / 21,800 = 4.59 %.
//! - Mar: 33,400 = 28,500 + new 4,000 (c7, c10) + expansion 2,900 (c1, c4) − contraction 2,000 (c6); 16; 0 %;
//!   2,000 / 28,500 = 7.02 %.
//! - Apr: 34,400 = 33,400 + expansion 2,000 (c5) + reactivated 3,000 (c14) − churned 4,000 (c12, c24); 15;
//!   2 / 17 = 11.76 %; 4,000 / 33,400 = 11.98 %.
//! - May: 32,042 = 34,400 + new 3,042 (c20) − contraction 2,400 (c4) − churned 3,000 (c13); 15; 1 / 16 = 6.25 %;
//!   5,400 / 34,400 = 15.70 %.
//! - Jun (to the 20th): 34,042 = 32,042 + new 3,000 (c21) − churned 1,000 (c23); 15; 1 / 16 = 6.25 %;
//!   1,000 / 32,042 = 3.12 %; ARPU 34,042 / 15 = 2,269.47 → 2,269.
//! - Now (20 June against 21 May, whose state is May's end): MRR 34,042, ARR 408,504, 15 subscribers, ARPU 2,269,
//!   churn 6.25 %, revenue churn 3.12 %.

use chrono::NaiveDate;

use super::plan::{Discount, Duration, Interval, Item, UsageType};
use super::report::{Computed, Current, MonthFigures, YearMonth, compute, months};
use super::{Observation, Plan, Rate, Status, Subscription};

fn at(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
}

fn t(m: u32, d: u32) -> i64 {
    if m == 12 { at(2025, 12, d) } else { at(2026, m, d) }
}

fn price(name: &str) -> Item {
    let (unit_amount, interval, interval_count) = match name {
        "basic" => (1000, Interval::Month, 1),
        "pro" => (3000, Interval::Month, 1),
        "pro_yearly" => (30_000, Interval::Year, 1),
        "team" => (800, Interval::Month, 1),
        "weekly" => (300, Interval::Week, 1),
        "daily" => (100, Interval::Day, 1),
        "quarterly" => (9000, Interval::Month, 3),
        "eur" => (2000, Interval::Month, 1),
        "gbp" => (1500, Interval::Month, 1),
        "metered" => (5, Interval::Month, 1),
        other => panic!("no price {other}"),
    };
    let usage_type = if name == "metered" { UsageType::Metered } else { UsageType::Licensed };
    Item {
        price: format!("price_{name}"),
        unit_amount: Some(unit_amount),
        interval,
        interval_count,
        usage_type,
        quantity: 1,
    }
}

fn plan(items: &[(&str, i64)]) -> Plan {
    Plan::new(items.iter().map(|(p, q)| Item { quantity: *q, ..price(p) }).collect(), vec![])
}

fn coupon(plan: Plan, duration: Duration, percent_off: Option<f64>, amount_off: Option<i64>) -> Plan {
    let discount = Discount { coupon: "co".into(), duration, percent_off, amount_off, currency: Some("usd".into()) };
    Plan::new(plan.items, vec![discount])
}

struct Sub(Subscription);

impl Sub {
    fn new(customer: &str, created: i64, plan: Plan) -> Self {
        Self(Subscription {
            id: format!("sub_{customer}_{created}"),
            customer: customer.into(),
            currency: "USD".into(),
            created,
            trial_start: None,
            trial_end: None,
            ended_at: None,
            observations: vec![Observation { at: created, status: Status::Active, since: None, plan }],
        })
    }
    fn seen(mut self, at: i64, status: Status, since: Option<i64>, plan: Plan) -> Self {
        self.0.observations.push(Observation { at, status, since, plan });
        self
    }
    fn first_seen(mut self, at: i64, status: Status, since: Option<i64>) -> Self {
        let first = &mut self.0.observations[0];
        (first.at, first.status, first.since) = (at, status, since);
        self
    }
    fn trial(mut self, start: i64, end: i64) -> Self {
        (self.0.trial_start, self.0.trial_end) = (Some(start), Some(end));
        self
    }
    fn ended(mut self, at: i64) -> Self {
        self.0.ended_at = Some(at);
        self
    }
    fn currency(mut self, c: &str) -> Self {
        c.clone_into(&mut self.0.currency);
        self
    }
}

fn fixture() -> Vec<Subscription> {
    let s = Sub::new;
    vec![
        s("c1", t(12, 10), plan(&[("basic", 1)])),
        s("c1", t(3, 15), plan(&[("weekly", 1)])),
        s("c2", t(1, 15), plan(&[("pro", 1)])),
        s("c3", t(2, 3), plan(&[("pro_yearly", 1)])),
        s("c4", t(1, 5), plan(&[("team", 3)])).seen(t(3, 10), Status::Active, None, plan(&[("team", 5)])).seen(
            t(5, 12),
            Status::Active,
            None,
            plan(&[("team", 2)]),
        ),
        s("c5", t(1, 8), plan(&[("basic", 1)])).seen(t(4, 16), Status::Active, None, plan(&[("pro", 1)])),
        s("c6", t(12, 1), plan(&[("pro", 1)])).seen(t(3, 20), Status::Active, None, plan(&[("basic", 1)])),
        s("c7", t(2, 10), plan(&[("basic", 1)])).first_seen(t(2, 10), Status::Trialing, None).trial(t(2, 10), t(3, 10)),
        s("c8", t(4, 1), plan(&[("basic", 1)]))
            .first_seen(t(4, 1), Status::Trialing, None)
            .trial(t(4, 1), t(4, 15))
            .seen(t(4, 15), Status::Canceled, None, plan(&[("basic", 1)]))
            .ended(t(4, 15)),
        s("c9", t(1, 2), coupon(plan(&[("pro", 1)]), Duration::Forever, Some(20.0), None)),
        s("c10", t(3, 3), coupon(plan(&[("pro", 1)]), Duration::Once, Some(50.0), None)),
        s("c11", t(2, 14), coupon(plan(&[("pro_yearly", 1)]), Duration::Forever, None, Some(6000))),
        s("c12", t(12, 5), plan(&[("basic", 1)])).ended(t(4, 5)),
        s("c13", t(12, 20), plan(&[("pro", 1)])).seen(t(4, 25), Status::PastDue, None, plan(&[("pro", 1)])).seen(
            t(5, 20),
            Status::Unpaid,
            Some(t(5, 20)),
            plan(&[("pro", 1)]),
        ),
        s("c14", t(1, 10), plan(&[("basic", 1)])).ended(t(2, 14)),
        s("c14", t(4, 2), plan(&[("pro", 1)])),
        s("c16", t(1, 3), plan(&[("metered", 1)])),
        s("c17", t(2, 20), plan(&[("basic", 1), ("metered", 1)])),
        s("c18", t(2, 1), plan(&[("eur", 1)])).currency("EUR"),
        s("c19", t(3, 1), plan(&[("gbp", 1)])).currency("GBP"),
        s("c20", t(5, 5), plan(&[("daily", 1)])),
        s("c21", t(6, 2), plan(&[("quarterly", 1)])),
        s("c22", t(3, 1), plan(&[("pro", 1)])).first_seen(t(3, 1), Status::Incomplete, None),
        s("c23", t(1, 20), plan(&[("basic", 1)])).ended(t(6, 10)),
        s("c24", t(1, 12), plan(&[("pro", 1)])).first_seen(t(6, 1), Status::Unpaid, Some(t(4, 12))),
    ]
    .into_iter()
    .map(|s| s.0)
    .collect()
}

fn computed() -> Computed {
    let subs = fixture();
    let tz = chrono_tz::Tz::UTC;
    let ms = months(tz, YearMonth::parse("2025-12").unwrap(), YearMonth::parse("2026-06").unwrap());
    let rate = |s: &Subscription| (s.currency == "EUR").then_some(Rate { amount: 2000, settled: 2200 });
    compute(&subs, rate, "USD", &ms, t(6, 20))
}

#[allow(clippy::too_many_arguments)]
fn month(
    label: &str,
    mrr: i64,
    new: i64,
    expansion: i64,
    contraction: i64,
    churned: i64,
    reactivated: i64,
) -> MonthFigures {
    MonthFigures {
        month: label.into(),
        mrr,
        new,
        expansion,
        contraction,
        churned,
        reactivated,
        ..MonthFigures::default()
    }
}

#[test]
fn mrr_and_its_movements_match_the_hand_computation() {
    let got = computed();
    let money: Vec<MonthFigures> = got
        .months
        .iter()
        .map(|m| month(&m.month, m.mrr, m.new, m.expansion, m.contraction, m.churned, m.reactivated))
        .collect();
    assert_eq!(
        money,
        vec![
            month("2025-12", 8000, 8000, 0, 0, 0, 0),
            month("2026-01", 21_800, 13_800, 0, 0, 0, 0),
            month("2026-02", 28_500, 7700, 0, 0, 1000, 0),
            month("2026-03", 33_400, 4000, 2900, 2000, 0, 0),
            month("2026-04", 34_400, 0, 2000, 0, 4000, 3000),
            month("2026-05", 32_042, 3042, 0, 2400, 3000, 0),
            month("2026-06", 34_042, 3000, 0, 0, 1000, 0),
        ]
    );
    for pair in got.months.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(b.mrr, a.mrr + b.new + b.reactivated + b.expansion - b.contraction - b.churned, "{}", b.month);
    }
}

#[test]
fn subscribers_churn_rates_and_arpu_match_the_hand_computation() {
    let got = computed();
    let counts: Vec<(u64, u64, u64, u64)> = got
        .months
        .iter()
        .map(|m| (m.active_subscribers, m.new_subscribers, m.reactivated_subscribers, m.churned_subscribers))
        .collect();
    assert_eq!(
        counts,
        vec![(4, 4, 0, 0), (11, 7, 0, 0), (14, 4, 0, 1), (16, 2, 0, 0), (15, 0, 1, 2), (15, 1, 0, 1), (15, 1, 0, 1)]
    );
    let rates: Vec<(Option<f64>, Option<f64>)> =
        got.months.iter().map(|m| (m.customer_churn_rate, m.revenue_churn_rate)).collect();
    assert_eq!(
        rates,
        vec![
            (Some(0.0), None),
            (Some(0.0), Some(0.0)),
            (Some(6.67), Some(4.59)),
            (Some(0.0), Some(7.02)),
            (Some(11.76), Some(11.98)),
            (Some(6.25), Some(15.7)),
            (Some(6.25), Some(3.12)),
        ]
    );
    assert_eq!(got.months[6].arpu, 2269);
    assert_eq!(
        got.current,
        Current {
            mrr: 34_042,
            arr: 408_504,
            active_subscribers: 15,
            arpu: 2269,
            customer_churn_rate: Some(6.25),
            revenue_churn_rate: Some(3.12),
        }
    );
}

#[test]
fn a_currency_without_a_rate_is_counted_apart_and_starts_are_listed() {
    let got = computed();
    assert_eq!(got.unconverted.len(), 1);
    assert_eq!(
        (got.unconverted[0].currency.as_str(), got.unconverted[0].subscriptions, got.unconverted[0].mrr),
        ("GBP", 1, 1500)
    );
    let c14: Vec<_> =
        got.starts.iter().filter(|s| s.customer == "c14").map(|s| (s.month.label(), s.reactivated)).collect();
    assert_eq!(c14, vec![("2026-01".to_owned(), false), ("2026-04".to_owned(), true)]);
    let new_in_may: i64 = got.starts.iter().filter(|s| s.month.label() == "2026-05").map(|s| s.mrr).sum();
    assert_eq!(new_in_may, 3042);
}
