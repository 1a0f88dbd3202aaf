//! The date range the Dashboard and the Revenue page show: a preset or two dates, kept in the page's query, with
//! one limit (`MAX_DAYS`, ten years) for both; and the links that change one parameter of that query.

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};

use crate::domain::revenue::{MAX_DAYS, too_long};

/// The range presets, in the picker's order: (value, label).
pub const PRESETS: [(&str, &str); 7] = [
    ("today", "Today"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("month", "This month"),
    ("90d", "90 days"),
    ("12mo", "12 months"),
    ("all", "All time"),
];

/// The preset a page shows when none is asked.
pub const DEFAULT: &str = "30d";

/// What the page was asked: a preset or two dates (as typed, so a bad one is shown back as it was).
pub struct Asked {
    pub preset: String,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// The value of `name` in `pairs`, trimmed; `None` when missing or blank.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

pub fn asked(pairs: &[(String, String)]) -> Asked {
    let (start, end) = (param(pairs, "start").map(str::to_owned), param(pairs, "end").map(str::to_owned));
    let preset = match param(pairs, "range") {
        Some(p) => p.to_owned(),
        None if start.is_some() || end.is_some() => "custom".to_owned(),
        None => DEFAULT.to_owned(),
    };
    Asked { preset, start, end }
}

/// The local dates `[first, last]` of the range (`None`: all time), or what is wrong with it.
pub fn dates(asked: &Asked, today: NaiveDate) -> Result<Option<(NaiveDate, NaiveDate)>, String> {
    let back = |days: u64| Ok(Some((today.checked_sub_days(Days::new(days)).unwrap_or(today), today)));
    match asked.preset.as_str() {
        "custom" => {
            let date = |raw: Option<&String>, name: &str| {
                raw.and_then(|r| NaiveDate::parse_from_str(r, "%Y-%m-%d").ok())
                    .ok_or_else(|| format!("Pick a {name} date (such as {today})"))
            };
            let (first, last) = (date(asked.start.as_ref(), "start")?, date(asked.end.as_ref(), "end")?);
            if first > last {
                return Err("The start date must not be after the end date".into());
            }
            if (last - first).num_days() >= MAX_DAYS.cast_signed() {
                return Err(too_long());
            }
            Ok(Some((first, last)))
        }
        "today" => back(0),
        "7d" => back(6),
        "30d" => back(29),
        "90d" => back(89),
        "12mo" => back(364),
        "month" => back(u64::from(today.day0())),
        "all" => Ok(None),
        other => Err(format!("Unknown range {other:?}: pick one of the presets or two dates")),
    }
}

/// The first day "all time" may start on: ten years back from `today`, at most.
pub fn earliest(today: NaiveDate) -> NaiveDate {
    today.checked_sub_days(Days::new(MAX_DAYS - 1)).unwrap_or(today)
}

/// `base` with its query `pairs`, `changes` applied (a value of `None` removes the parameter).
pub fn link(base: &str, pairs: &[(String, String)], changes: &[(&str, Option<&str>)]) -> String {
    let mut kept: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| !changes.iter().any(|(name, _)| name == k)).cloned().collect();
    for (name, value) in changes {
        if let Some(v) = value {
            kept.push(((*name).to_owned(), (*v).to_owned()));
        }
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    if query.is_empty() { base.to_owned() } else { format!("{base}?{query}") }
}

/// The presets as the picker shows them: each a link that keeps the rest of the query (a new range starts on
/// the first page of any list: `after` goes).
pub fn presets(base: &str, pairs: &[(String, String)], current: &str) -> Vec<Value> {
    PRESETS
        .iter()
        .map(|(value, label)| {
            let href = link(base, pairs, &[("range", Some(value)), ("start", None), ("end", None), ("after", None)]);
            json!({"value": value, "label": label, "href": href, "current": current == *value})
        })
        .collect()
}

/// How a range reads in a heading: `2026-05-01 to 2026-05-31`, one date, or "All time".
pub fn label(range: Option<(NaiveDate, NaiveDate)>) -> String {
    range.map_or_else(|| "All time".to_owned(), |(f, l)| if f == l { f.to_string() } else { format!("{f} to {l}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn presets_and_dates_make_the_range() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(dates(&asked(&pairs("")), today), Ok(Some((d("2026-04-22"), today))), "30 days by default");
        assert_eq!(dates(&asked(&pairs("range=7d")), today), Ok(Some((d("2026-05-15"), today))));
        assert_eq!(dates(&asked(&pairs("range=month")), today), Ok(Some((d("2026-05-01"), today))));
        assert_eq!(dates(&asked(&pairs("range=all")), today), Ok(None));
        assert_eq!(
            dates(&asked(&pairs("start=2026-01-01&end=2026-01-31")), today),
            Ok(Some((d("2026-01-01"), d("2026-01-31"))))
        );
        assert!(dates(&asked(&pairs("start=2026-02-01&end=2026-01-31")), today).unwrap_err().contains("not be after"));
        assert!(dates(&asked(&pairs("start=soon")), today).unwrap_err().contains("Pick a start date"));
        assert!(dates(&asked(&pairs("range=forever")), today).unwrap_err().contains("Unknown range"));
        assert_eq!(dates(&asked(&pairs("start=2000-01-01&end=2026-01-01")), today), Err(too_long()));
        assert_eq!(earliest(today), d("2016-05-21"), "ten years, both ends counted");
    }

    #[test]
    fn links_keep_the_query_and_change_one_parameter() {
        let q = pairs("range=7d&filter_country=is:US");
        assert_eq!(link("/d", &q, &[("filter_country", None)]), "/d?range=7d");
        assert_eq!(
            link("/d", &q, &[("filter_device", Some("is:mobile"))]),
            "/d?range=7d&filter_country=is%3AUS&filter_device=is%3Amobile"
        );
        let shown = presets("/r", &pairs("range=7d&after=abc&kind=refunded"), "7d");
        assert_eq!(shown[3]["href"], "/r?kind=refunded&range=month", "a new range keeps the filter, not the page");
        assert_eq!(shown[1]["current"], true);
    }
}
