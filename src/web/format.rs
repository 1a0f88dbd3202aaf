//! How pages show times and long ids, as Tera filters every template can use:
//!
//! - `{{ at | when(tz=website.timezone) | safe }}`: an ISO 8601 instant as a readable time in the zone
//!   (`Today 09:54`, `28 Nov, 09:54`, `28 Nov 2025, 09:54`) with a relative hint (`3 minutes ago`), inside a
//!   `<time datetime>` whose `title` is the exact value. No value (or one that does not parse) shows as a dash.
//! - `{{ id | short_id | safe }}`: a long id cut to its start and end, the whole value one tap or Enter away
//!   (a `<details>`, so it needs no script and works on a phone).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_humanize::HumanTime;
use chrono_tz::Tz;
use rocket_dyn_templates::tera::{self, Tera, Value};

pub fn register(tera: &mut Tera) {
    tera.register_filter("when", |value: &Value, args: &HashMap<String, Value>| Ok(when_filter(value, args)));
    tera.register_filter("short_id", |value: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(value.as_str().map_or_else(|| DASH.to_owned(), short_id)))
    });
}

fn when_filter(value: &Value, args: &HashMap<String, Value>) -> Value {
    let tz = args.get("tz").and_then(Value::as_str).and_then(|name| name.parse::<Tz>().ok()).unwrap_or(Tz::UTC);
    Value::String(value.as_str().map_or_else(|| DASH.to_owned(), |iso| when(iso, tz, Utc::now())))
}

const DASH: &str = r#"<span class="muted">—</span>"#;

/// The HTML of one instant, `now` being the time of the render.
pub fn when(iso: &str, tz: Tz, now: DateTime<Utc>) -> String {
    let Ok(at) = DateTime::parse_from_rfc3339(iso) else { return DASH.to_owned() };
    let local = at.with_timezone(&tz);
    let today = now.with_timezone(&tz).date_naive();
    let clock = local.format("%H:%M");
    let day = local.date_naive();
    let shown = if day == today {
        format!("Today {clock}")
    } else if today.pred_opt() == Some(day) {
        format!("Yesterday {clock}")
    } else if day.year() == today.year() {
        format!("{}, {clock}", local.format("%-d %b"))
    } else {
        format!("{}, {clock}", local.format("%-d %b %Y"))
    };
    let exact = local.format("%Y-%m-%d %H:%M:%S %Z");
    let relative = HumanTime::from(at.with_timezone(&Utc) - now);
    let iso = escape(iso);
    format!(r#"<time datetime="{iso}" title="{exact} ({iso})">{shown}</time> <span class="ago">{relative}</span>"#)
}

/// Ids up to this many characters are shown whole.
const SHORT: usize = 14;

/// The HTML of a long id: its start and end, expanding to the whole value.
pub fn short_id(id: &str) -> String {
    let whole = escape(id);
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= SHORT {
        return format!("<code>{whole}</code>");
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!(
        r#"<details class="id"><summary><code>{}…{}</code><span class="visually-hidden"> (show the whole id)</span></summary><code>{whole}</code></details>"#,
        escape(&head),
        escape(&tail)
    )
}

/// Text made safe inside HTML and its attributes.
fn escape(text: &str) -> String {
    tera::escape_html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_read_in_the_zone_with_a_relative_hint_and_the_exact_value() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let html = when("2026-11-28T09:57:00.000Z", berlin, now());
        assert!(html.contains(r#"datetime="2026-11-28T09:57:00.000Z""#), "{html}");
        assert!(html.contains(">Today 10:57</time>"), "{html}");
        assert!(html.contains("title=\"2026-11-28 10:57:00 CET"), "{html}");
        assert!(html.contains("3 minutes ago"), "{html}");
        // Just after midnight in Berlin, the same UTC day is "yesterday" there.
        assert!(when("2026-11-27T22:30:00Z", Tz::UTC, now()).contains(">Yesterday 22:30<"));
        assert!(when("2026-11-27T23:30:00Z", berlin, now()).contains(">Today 00:30<"));
        assert!(when("2026-03-05T08:00:00Z", Tz::UTC, now()).contains(">5 Mar, 08:00<"));
        assert!(when("2025-03-05T08:00:00Z", Tz::UTC, now()).contains(">5 Mar 2025, 08:00<"));
    }

    #[test]
    fn a_value_that_is_not_a_time_is_a_dash_never_markup() {
        assert_eq!(when("<script>", Tz::UTC, now()), DASH);
        assert_eq!(when("", Tz::UTC, now()), DASH);
    }

    #[test]
    fn long_ids_are_cut_and_expand_short_ones_are_whole() {
        assert_eq!(short_id("pi_123"), "<code>pi_123</code>");
        let html = short_id("cs_test_a1B2c3D4e5F6g7H8i9J0");
        assert!(html.contains("<code>cs_test_…i9J0</code>"), "{html}");
        assert!(html.contains("<code>cs_test_a1B2c3D4e5F6g7H8i9J0</code></details>"), "{html}");
        assert!(
            short_id("<b>aaaaaaaaaaaaaaaaaaa").starts_with("<details")
                && !short_id("<b>aaaaaaaaaaaaaaaaaaaa").contains("<b>")
        );
    }
}
