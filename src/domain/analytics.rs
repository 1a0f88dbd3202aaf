//! The Website analytics API's questions and answers (contract §3, §5): the range, time zone, interval,
//! filters, fields and paging a report is asked with, the time buckets of a series, and the rows it answers.
//! Parsing and arithmetic only; the database answers in `db::analytics`.

use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

/// The last instant a report reaches when no range is given (payments are refused after 2099).
pub const ALL_TIME_END_MS: i64 = 4_102_444_800_000;
/// A series has at most this many buckets: ask for a larger interval or a shorter range.
pub const MAX_BUCKETS: usize = 2_000;
/// `limit` when none is given, and the largest accepted.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1_000;
/// The largest `offset` accepted.
pub const MAX_OFFSET: u32 = 1_000_000;

/// What a report can be filtered (and some broken down) by: the contract's `filter_<dim>` names.
///
/// Every dimension but `page` and `goal` is a value of the visitor's acquisition (first touch, contract §3):
/// the same for all of a visitor's sessions and payments, so each visitor and each payment falls in exactly
/// one row of a breakdown. `page` (a page the visitor viewed in the range) and `goal` (a goal they completed in
/// the range) are read from the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Country,
    Region,
    City,
    Device,
    Browser,
    Os,
    Referrer,
    Page,
    EntryPage,
    Hostname,
    Goal,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
    Ref,
    Source,
    Via,
}

impl Dimension {
    pub const ALL: [Self; 19] = [
        Self::Country,
        Self::Region,
        Self::City,
        Self::Device,
        Self::Browser,
        Self::Os,
        Self::Referrer,
        Self::Page,
        Self::EntryPage,
        Self::Hostname,
        Self::Goal,
        Self::UtmSource,
        Self::UtmMedium,
        Self::UtmCampaign,
        Self::UtmTerm,
        Self::UtmContent,
        Self::Ref,
        Self::Source,
        Self::Via,
    ];

    /// The campaign parameters, in the order of the `campaigns` rows' `campaign` object.
    pub const CAMPAIGN: [Self; 8] = [
        Self::UtmSource,
        Self::UtmMedium,
        Self::UtmCampaign,
        Self::UtmTerm,
        Self::UtmContent,
        Self::Ref,
        Self::Source,
        Self::Via,
    ];

    /// The name in `filter_<name>` and in the `campaign` object.
    pub fn name(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::Region => "region",
            Self::City => "city",
            Self::Device => "device",
            Self::Browser => "browser",
            Self::Os => "os",
            Self::Referrer => "referrer",
            Self::Page => "page",
            Self::EntryPage => "entry_page",
            Self::Hostname => "hostname",
            Self::Goal => "goal",
            Self::UtmSource => "utm_source",
            Self::UtmMedium => "utm_medium",
            Self::UtmCampaign => "utm_campaign",
            Self::UtmTerm => "utm_term",
            Self::UtmContent => "utm_content",
            Self::Ref => "ref",
            Self::Source => "source",
            Self::Via => "via",
        }
    }

    /// The acquisition column (the same name in `visitors` and `visitor_sessions`); `None` for the
    /// dimensions read from events.
    pub fn column(self) -> Option<&'static str> {
        match self {
            Self::Page | Self::Goal => None,
            Self::EntryPage => Some("landing_path"),
            other => Some(other.name()),
        }
    }

    /// The one column holding the values of all of `group`, as a JSON array in its order (NULL when all are),
    /// if there is one: the campaign parameters' `campaign` (migration 0010).
    pub fn packed_column(group: &[Self]) -> Option<&'static str> {
        (group == Self::CAMPAIGN).then_some("campaign")
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// `filter_<dim>=[is:|is_not:]v1,v2`: the visitor's value is (or is not) one of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dimension: Dimension,
    pub negated: bool,
    pub values: Vec<String>,
}

impl Filter {
    fn parse(dimension: Dimension, raw: &str) -> Result<Self, String> {
        let (negated, list) = match raw.split_once(':') {
            Some(("is", rest)) => (false, rest),
            Some(("is_not", rest)) => (true, rest),
            _ => (false, raw),
        };
        let values: Vec<String> = list.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
        let name = dimension.name();
        if values.is_empty() {
            return Err(format!("filter_{name} needs a value: filter_{name}=is:value or filter_{name}=is_not:a,b"));
        }
        if values.len() > 50 {
            return Err(format!("filter_{name} may list at most 50 values"));
        }
        // Countries are stored upper-case, goals lower-case: match what the script and the user typed alike.
        let values = match dimension {
            Dimension::Country => values.into_iter().map(|v| v.to_ascii_uppercase()).collect(),
            Dimension::Goal => values.into_iter().map(|v| v.to_lowercase()).collect(),
            _ => values,
        };
        Ok(Self { dimension, negated, values })
    }
}

/// Unix milliseconds `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Period {
    pub const ALL_TIME: Self = Self { start_ms: 0, end_ms: ALL_TIME_END_MS };

    /// The bounds as the stored payment times (`2026-05-21T00:00:00.000Z`), which compare as text.
    pub fn stamps(&self) -> (String, String) {
        (stamp(self.start_ms), stamp(self.end_ms))
    }
}

/// A payment time as stored, from Unix milliseconds.
pub fn stamp(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A series' bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    Day,
    Week,
    Month,
}

impl Interval {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => Err("interval must be hour, day, week or month".into()),
        }
    }

    /// The local start of the bucket holding `t`.
    fn floor(self, t: NaiveDateTime) -> NaiveDateTime {
        let day = t.date();
        let date = match self {
            Self::Hour => return day.and_hms_opt(t.hour(), 0, 0).unwrap_or(t),
            Self::Day => day,
            Self::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        };
        date.and_hms_opt(0, 0, 0).unwrap_or(t)
    }

    fn next(self, t: NaiveDateTime) -> NaiveDateTime {
        match self {
            Self::Hour => t + Duration::hours(1),
            Self::Day => t + Days::new(1),
            Self::Week => t + Days::new(7),
            Self::Month => t.checked_add_months(Months::new(1)).unwrap_or(t + Days::new(31)),
        }
    }

    fn label(self, t: NaiveDateTime) -> String {
        match self {
            Self::Hour => t.format("%Y-%m-%d %H:00").to_string(),
            Self::Day | Self::Week => t.format("%Y-%m-%d").to_string(),
            Self::Month => t.format("%Y-%m").to_string(),
        }
    }
}

/// One bucket of a series: `[start_ms, end_ms)`, named by its local start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start_ms: i64,
    pub end_ms: i64,
    /// `2026-05-21`, `2026-05-21 14:00` or `2026-05`.
    pub name: String,
    /// The local start with its offset (RFC 3339).
    pub timestamp: String,
}

/// The buckets covering `period` in `tz`: each starts at a local hour, midnight, Monday or first of the month
/// (the first and last are cut to the period). Local times a DST change skips start at the next valid instant.
pub fn buckets(period: Period, tz: Tz, interval: Interval) -> Result<Vec<Bucket>, String> {
    let to_utc = |local: NaiveDateTime| -> i64 {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                return t.timestamp_millis();
            }
            probe += Duration::minutes(30);
        }
        local.and_utc().timestamp_millis()
    };
    let first = DateTime::<Utc>::from_timestamp_millis(period.start_ms).unwrap_or_default().with_timezone(&tz);
    let mut local = interval.floor(first.naive_local());
    let mut out = Vec::new();
    while to_utc(local) < period.end_ms {
        if out.len() >= MAX_BUCKETS {
            return Err(format!(
                "A series has at most {MAX_BUCKETS} buckets: choose a larger interval or a shorter range"
            ));
        }
        let next = interval.next(local);
        let (start, end) = (to_utc(local).max(period.start_ms), to_utc(next).min(period.end_ms));
        let timestamp = tz.from_utc_datetime(&DateTime::from_timestamp_millis(start).unwrap_or_default().naive_utc());
        out.push(Bucket {
            start_ms: start,
            end_ms: end,
            name: interval.label(local),
            timestamp: timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        local = next;
    }
    Ok(out)
}

/// What every analytics route is asked with (contract §5's common parameters), checked.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// `None`: all time (no `startAt`/`endAt`).
    pub period: Option<Period>,
    pub tz: Tz,
    /// `fields`, as listed; `None`: all.
    pub fields: Option<Vec<String>>,
    pub limit: u32,
    pub offset: u32,
    pub filters: Vec<Filter>,
    /// `interval` (series only; default `day`).
    pub interval: Interval,
}

impl ReportQuery {
    /// From the query's pairs (`websiteId` is the guard's). Any other parameter is refused, so a typo is not
    /// silently ignored.
    pub fn parse(pairs: &[(String, String)], website_tz: &str) -> Result<Self, String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut start = None;
        let mut end = None;
        let mut tz_name = None;
        let mut fields = None;
        let mut limit = None;
        let mut offset = None;
        let mut interval = None;
        let mut filters = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(format!("Query parameter {name} was sent more than once; send it once"));
            }
            seen.push(name);
            match name.as_str() {
                "websiteId" => {}
                "startAt" => start = Some(value.as_str()),
                "endAt" => end = Some(value.as_str()),
                "timezone" => tz_name = Some(value.as_str()),
                "fields" => {
                    fields =
                        Some(value.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect());
                }
                "limit" => limit = Some(number(value, "limit", 1, MAX_LIMIT)?),
                "offset" => offset = Some(number(value, "offset", 0, MAX_OFFSET)?),
                "interval" => interval = Some(Interval::parse(value)?),
                other => {
                    let dimension = other.strip_prefix("filter_").and_then(Dimension::parse).ok_or_else(|| {
                        format!(
                            "Unknown query parameter {other}: use startAt, endAt, timezone, fields, limit, offset, \
                             interval or filter_<dimension> with one of: {}",
                            Dimension::ALL.map(Dimension::name).join(", ")
                        )
                    })?;
                    filters.push(Filter::parse(dimension, value)?);
                }
            }
        }
        let tz: Tz = tz_name
            .unwrap_or(website_tz)
            .parse()
            .map_err(|_| "timezone must be an IANA time zone such as Europe/Paris or America/New_York".to_owned())?;
        let period = match (start, end) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err("Send both startAt and endAt, or neither (all time)".into());
            }
            (Some(s), Some(e)) => {
                let start_ms = instant(s, "startAt", tz, false)?;
                let end_ms = instant(e, "endAt", tz, true)?;
                if start_ms >= end_ms {
                    return Err("startAt must be before endAt".into());
                }
                Some(Period { start_ms, end_ms })
            }
        };
        Ok(Self {
            period,
            tz,
            fields,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            offset: offset.unwrap_or(0),
            filters,
            interval: interval.unwrap_or(Interval::Day),
        })
    }

    /// The range asked for, or all time.
    pub fn period_or_all(&self) -> Period {
        self.period.unwrap_or(Period::ALL_TIME)
    }
}

fn number(raw: &str, name: &str, min: u32, max: u32) -> Result<u32, String> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{name} must be a whole number from {min} to {max}"))
}

/// `YYYY-MM-DD` (local midnight in `tz`; for the end, the next midnight: the whole day is in) or an RFC 3339
/// time, in Unix milliseconds, between 1970 and 2099.
fn instant(raw: &str, name: &str, tz: Tz, end: bool) -> Result<i64, String> {
    let raw = raw.trim();
    let ms = if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let date = if end { date.checked_add_days(Days::new(1)).unwrap_or(date) } else { date };
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        tz.from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| midnight.and_utc().timestamp_millis(), |t| t.timestamp_millis())
    } else if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        t.timestamp_millis()
    } else {
        return Err(format!("{name} must be a date (2026-05-21) or an ISO time (2026-05-21T14:00:00Z)"));
    };
    if !(0..=ALL_TIME_END_MS).contains(&ms) {
        return Err(format!("{name} must be between 1970 and 2099"));
    }
    Ok(ms)
}

/// Minor units to the major units the analytics API answers in, rounded to 2 decimals (contract §3).
pub fn major(minor: i64, currency: &str) -> f64 {
    let exponent = iso_currency::Currency::from_code(&currency.to_ascii_uppercase())
        .and_then(iso_currency::Currency::exponent)
        .unwrap_or(2);
    let value = float(minor) / 10f64.powi(i32::from(exponent));
    round2(value)
}

/// Sums and counts as floats for the answers' decimals: exact below 2^53, far above any sum of payments in
/// minor units or count of visitors.
#[allow(clippy::cast_precision_loss)]
fn float(n: i64) -> f64 {
    n as f64
}

#[allow(clippy::cast_precision_loss)]
fn count(n: u64) -> f64 {
    n as f64
}

/// Rounded to 2 decimals.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `part` of `whole` as a percentage with 2 decimals (1.15 = 1.15%); 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { round2(count(part) * 100.0 / count(whole)) }
}

/// A currency's symbol (`$`, `€`), or its code when it has none.
pub fn symbol(currency: &str) -> String {
    iso_currency::Currency::from_code(&currency.to_ascii_uppercase())
        .map_or_else(|| currency.to_owned(), |c| c.symbol().to_string())
}

/// What one visitor group did in a range: sums over its sessions, counting each visitor once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitTotals {
    pub visitors: u64,
    pub sessions: u64,
    pub bounces: u64,
    pub duration_ms: i64,
}

impl VisitTotals {
    /// Adds another group's (or slice's) sums to these.
    pub fn add(&mut self, other: Self) {
        self.visitors += other.visitors;
        self.sessions += other.sessions;
        self.bounces += other.bounces;
        self.duration_ms = self.duration_ms.saturating_add(other.duration_ms);
    }
}

/// What one group's payments came to, in minor units of the website currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentTotals {
    pub payments: u64,
    pub new: i64,
    pub renewal: i64,
    pub refunds: i64,
    /// Distinct visitors the payments are attributed to (known visitors only).
    pub paying_visitors: u64,
}

impl PaymentTotals {
    /// Adds another group's sums to these (paying visitors of disjoint groups).
    pub fn add(&mut self, other: Self) {
        self.payments += other.payments;
        self.new = self.new.saturating_add(other.new);
        self.renewal = self.renewal.saturating_add(other.renewal);
        self.refunds = self.refunds.saturating_add(other.refunds);
        self.paying_visitors += other.paying_visitors;
    }

    /// New and renewals, minus refunds.
    pub fn revenue(&self) -> i64 {
        self.new.saturating_add(self.renewal).saturating_sub(self.refunds)
    }
}

/// `GET analytics/overview`'s row.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Overview {
    pub visitors: u64,
    pub sessions: u64,
    /// Sessions of one pageview, % of sessions.
    pub bounce_rate: f64,
    /// Seconds from a session's first event to its last, averaged.
    pub avg_session_duration: f64,
    /// The website currency's symbol.
    #[schema(example = "$")]
    pub currency: String,
    /// New payments and renewals minus refunds, in major units.
    pub revenue: f64,
    pub payments: u64,
    pub revenue_per_visitor: f64,
    /// Paying visitors ÷ visitors, % (1.15 = 1.15%).
    pub conversion_rate: f64,
}

impl Overview {
    pub fn new(visits: VisitTotals, paid: PaymentTotals, currency: &str) -> Self {
        let revenue = major(paid.revenue(), currency);
        Self {
            visitors: visits.visitors,
            sessions: visits.sessions,
            bounce_rate: percent(visits.bounces, visits.sessions),
            avg_session_duration: if visits.sessions == 0 {
                0.0
            } else {
                round2(float(visits.duration_ms) / 1000.0 / count(visits.sessions))
            },
            currency: symbol(currency),
            revenue,
            payments: paid.payments,
            revenue_per_visitor: if visits.visitors == 0 { 0.0 } else { round2(revenue / count(visits.visitors)) },
            conversion_rate: percent(paid.paying_visitors, visits.visitors),
        }
    }
}

/// A series row's revenue, split.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct RevenueBreakdown {
    pub new: f64,
    pub renewal: f64,
    pub refund: f64,
}

/// `GET analytics/timeseries`'s rows.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SeriesRow {
    /// The bucket's local start: `2026-05-21`, `2026-05-21 14:00`, `2026-05`.
    pub name: String,
    /// The bucket's start, RFC 3339 with the time zone's offset.
    pub timestamp: String,
    pub visitors: u64,
    pub sessions: u64,
    pub revenue: f64,
    pub payments: u64,
    #[serde(rename = "revenueBreakdown")]
    pub revenue_breakdown: RevenueBreakdown,
    pub conversion_rate: f64,
}

impl SeriesRow {
    pub fn new(bucket: &Bucket, visits: VisitTotals, paid: PaymentTotals, currency: &str) -> Self {
        Self {
            name: bucket.name.clone(),
            timestamp: bucket.timestamp.clone(),
            visitors: visits.visitors,
            sessions: visits.sessions,
            revenue: major(paid.revenue(), currency),
            payments: paid.payments,
            revenue_breakdown: RevenueBreakdown {
                new: major(paid.new, currency),
                renewal: major(paid.renewal, currency),
                refund: major(paid.refunds, currency),
            },
            conversion_rate: percent(paid.paying_visitors, visits.visitors),
        }
    }
}

/// The label of the row that holds payments whose visitor revlink never saw (contract §3).
pub const UNKNOWN_VISITOR: &str = "Unknown visitor";

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    fn parse(query: &str) -> Result<ReportQuery, String> {
        ReportQuery::parse(&pairs(query), "UTC")
    }

    #[test]
    fn dates_cover_whole_local_days_and_times_are_exact() {
        let q = parse("startAt=2026-03-01&endAt=2026-03-31&timezone=Asia/Kolkata").unwrap();
        let p = q.period.unwrap();
        assert_eq!(stamp(p.start_ms), "2026-02-28T18:30:00.000Z");
        assert_eq!(stamp(p.end_ms), "2026-03-31T18:30:00.000Z");
        let q = parse("startAt=2026-03-01T10:00:00Z&endAt=2026-03-01T12:00:00%2B01:00").unwrap();
        assert_eq!(q.period.unwrap().end_ms - q.period.unwrap().start_ms, 3_600_000, "12:00+01:00 is 11:00Z");
    }

    #[test]
    fn bad_parameters_say_what_to_send() {
        assert!(parse("startAt=2026-03-01").unwrap_err().contains("both startAt and endAt"));
        assert!(parse("startAt=2026-03-02&endAt=2026-03-01").unwrap_err().contains("before"));
        assert!(parse("startAt=yesterday&endAt=2026-03-01").unwrap_err().contains("ISO time"));
        assert!(parse("timezone=Mars/Olympus").unwrap_err().contains("IANA"));
        assert!(parse("limit=0").unwrap_err().contains("1 to 1000"));
        assert!(parse("limit=1001").unwrap_err().contains("1 to 1000"));
        assert!(parse("limit=abc").unwrap_err().contains("whole number"));
        assert!(parse("filter_planet=mars").unwrap_err().contains("Unknown query parameter filter_planet"));
        assert!(parse("filter_country=is:").unwrap_err().contains("needs a value"));
        assert!(parse("limit=5&limit=6").unwrap_err().contains("more than once"));
        assert!(parse("interval=year").unwrap_err().contains("hour, day, week or month"));
    }

    #[test]
    fn filters_read_is_and_is_not() {
        let q = parse("filter_country=is:us,DE&filter_utm_source=is_not:newsletter&filter_goal=Signup").unwrap();
        assert_eq!(
            q.filters[0],
            Filter { dimension: Dimension::Country, negated: false, values: vec!["US".into(), "DE".into()] }
        );
        assert_eq!(q.filters[1].dimension, Dimension::UtmSource);
        assert!(q.filters[1].negated);
        assert_eq!(q.filters[2].values, vec!["signup".to_owned()]);
    }

    #[test]
    fn day_buckets_follow_dst_and_half_hour_zones() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        // 2026-03-29 is 23 hours long in Paris.
        let q = parse("startAt=2026-03-28&endAt=2026-03-30&timezone=Europe/Paris").unwrap();
        let b = buckets(q.period.unwrap(), tz, Interval::Day).unwrap();
        let names: Vec<&str> = b.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["2026-03-28", "2026-03-29", "2026-03-30"]);
        assert_eq!((b[1].end_ms - b[1].start_ms) / 3_600_000, 23);
        assert_eq!(b[0].timestamp, "2026-03-28T00:00:00+01:00");
        assert_eq!(b[2].timestamp, "2026-03-30T00:00:00+02:00");
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let p = Period { start_ms: 1_780_000_000_000, end_ms: 1_780_000_000_000 + 3 * 3_600_000 };
        let hours = buckets(p, kolkata, Interval::Hour).unwrap();
        assert!(hours.iter().skip(1).all(|b| stamp(b.start_ms).ends_with(":30:00.000Z")), "local hours are :30 UTC");
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let tz = Tz::UTC;
        let p = Period { start_ms: 1_779_321_600_000, end_ms: 1_782_000_000_000 }; // 2026-05-21 (a Thursday) on
        let weeks = buckets(p, tz, Interval::Week).unwrap();
        assert_eq!(weeks[0].name, "2026-05-18");
        assert_eq!(weeks[0].start_ms, p.start_ms, "the first bucket is cut to the range");
        assert_eq!(weeks[1].name, "2026-05-25");
        let months = buckets(p, tz, Interval::Month).unwrap();
        assert_eq!(months.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["2026-05", "2026-06"]);
        let years = Period { start_ms: 0, end_ms: ALL_TIME_END_MS };
        assert!(buckets(years, tz, Interval::Hour).unwrap_err().contains("larger interval"));
    }

    #[test]
    #[allow(clippy::float_cmp)] // rounded to 2 decimals: the exact values are the point
    fn money_is_in_major_units_and_rates_are_percentages() {
        assert_eq!(major(12_345, "usd"), 123.45);
        assert_eq!(major(12_345, "JPY"), 12_345.0);
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(1, 0), 0.0);
        assert_eq!(symbol("eur"), "€");
        let o = Overview::new(
            VisitTotals { visitors: 200, sessions: 250, bounces: 100, duration_ms: 250_000 },
            PaymentTotals { payments: 3, new: 10_000, renewal: 5_000, refunds: 1_000, paying_visitors: 2 },
            "usd",
        );
        assert_eq!((o.revenue, o.bounce_rate, o.avg_session_duration), (140.0, 40.0, 1.0));
        assert_eq!((o.revenue_per_visitor, o.conversion_rate), (0.7, 1.0));
    }
}
