//! The time of a report: its period in Unix milliseconds, and the hour/day/week/month buckets of a series in the
//! website's time zone (DST changes and half-hour offsets included).

use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ALL_TIME_END_MS, MAX_BUCKETS};

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
    pub(super) fn parse(raw: &str) -> Result<Self, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analytics::tests::parse;

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
}
