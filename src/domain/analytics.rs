//! The Website analytics API's questions and answers (contract §3, §5): the range, time zone, interval,
//! filters, fields and paging a report is asked with; the time buckets of a series (`time`) and the figures of the
//! rows it answers (`figures`). Parsing and arithmetic only; the database answers in `db::analytics`.

use chrono::{DateTime, Days, NaiveDate, TimeZone};
use chrono_tz::Tz;

mod figures;
mod time;
pub use figures::*;
pub use time::*;

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

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// Values of several dimensions that reports group by together, also stored together in one column (migration
/// 0010), so that such a report reads one column per session instead of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packed {
    /// The eight campaign parameters (`Dimension::CAMPAIGN`): their JSON array, NULL when all are.
    Campaign,
    /// Hostname and landing path: `shop.example.com/pricing` (a hostname holds no `/`).
    LandingPage,
}

impl Packed {
    /// The packed column that holds exactly `group`'s values, in its order, if there is one.
    pub fn of(group: &[Dimension]) -> Option<Self> {
        match group {
            g if g == Dimension::CAMPAIGN => Some(Self::Campaign),
            [Dimension::Hostname, Dimension::EntryPage] => Some(Self::LandingPage),
            _ => None,
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::LandingPage => "landing_page",
        }
    }

    /// The group's values from the stored column.
    pub fn unpack(self, stored: Option<&str>) -> Result<Vec<Option<String>>, String> {
        match (self, stored) {
            (Self::Campaign, None) => Ok(vec![None; Dimension::CAMPAIGN.len()]),
            (Self::Campaign, Some(json)) => {
                serde_json::from_str(json).map_err(|e| format!("a stored campaign is not a JSON array: {e}"))
            }
            // A payment whose visitor revlink never saw.
            (Self::LandingPage, None) => Ok(vec![None, None]),
            (Self::LandingPage, Some(page)) => {
                let (host, path) = page.split_at(page.find('/').unwrap_or(page.len()));
                Ok(vec![Some(host.to_owned()), Some(path.to_owned())])
            }
        }
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    /// A query string parsed as a report's parameters, for a website in UTC.
    pub(in crate::domain::analytics) fn parse(query: &str) -> Result<ReportQuery, String> {
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
    fn packed_values_unpack_in_their_group_order() {
        assert_eq!(Packed::of(&Dimension::CAMPAIGN), Some(Packed::Campaign));
        assert_eq!(Packed::of(&[Dimension::Hostname, Dimension::EntryPage]), Some(Packed::LandingPage));
        assert_eq!(Packed::of(&[Dimension::Hostname]), None);
        let page = Packed::LandingPage.unpack(Some("shop.example.com/blog/a")).unwrap();
        assert_eq!(page, [Some("shop.example.com".to_owned()), Some("/blog/a".to_owned())]);
        let campaign = Packed::Campaign.unpack(Some(r#"["news",null,"x",null,null,null,null,null]"#)).unwrap();
        assert_eq!(
            (campaign[0].as_deref(), campaign[1].as_deref(), campaign[2].as_deref()),
            (Some("news"), None, Some("x"))
        );
        assert_eq!(Packed::Campaign.unpack(None).unwrap(), vec![None; 8]);
        assert_eq!(Packed::LandingPage.unpack(None).unwrap(), vec![None, None], "a visitor revlink never saw");
        assert!(Packed::Campaign.unpack(Some("{")).is_err());
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
}
