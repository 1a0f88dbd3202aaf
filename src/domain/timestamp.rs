//! The one timestamp format of every stored and answered time: `2026-05-21T00:00:00.000Z`.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, Iso8601, TimePrecision};

const ISO_MILLIS: EncodedConfig =
    Config::DEFAULT.set_time_precision(TimePrecision::Second { decimal_digits: std::num::NonZeroU8::new(3) }).encode();

/// `2026-05-21T00:00:00.000Z`: the timestamp format of every stored and answered time. Times outside
/// what `parse_instant` accepts never reach here; should one, it is written as Unix seconds, not a panic.
pub fn format_time(t: OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| utc.format(&Iso8601::<ISO_MILLIS>).ok())
        .unwrap_or_else(|| t.unix_timestamp().to_string())
}

/// The years a time given to revlink may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2099;

/// An RFC 3339 time (`2026-05-21T10:00:00Z`, any offset) in `YEARS`, as UTC.
pub fn parse_instant(raw: &str, name: &str) -> Result<OffsetDateTime, String> {
    let invalid = || format!("{name} must be an ISO 8601 time such as 2026-05-21T10:00:00Z");
    let parsed = OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| invalid())?;
    parsed
        .checked_to_offset(time::UtcOffset::UTC)
        .filter(|utc| YEARS.contains(&utc.year()))
        .ok_or_else(|| format!("{name} must be between {} and {}", YEARS.start(), YEARS.end()))
}

pub fn now() -> String {
    format_time(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_checked_and_kept_in_range() {
        assert_eq!(format_time(parse_instant("2026-05-21T12:00:00+02:00", "t").unwrap()), "2026-05-21T10:00:00.000Z");
        // The probe's panic: a valid RFC 3339 time whose UTC form is in year 10000.
        assert!(parse_instant("9999-12-31T23:59:59-00:01", "timestamp").unwrap_err().contains("between 1970 and 2099"));
        assert!(parse_instant("1969-12-31T23:59:59Z", "t").is_err());
        assert!(parse_instant("2099-12-31T23:59:59Z", "t").is_ok());
        assert!(parse_instant("yesterday", "start").unwrap_err().starts_with("start must be an ISO 8601 time"));
    }

    #[test]
    fn times_have_milliseconds_and_z() {
        let t = OffsetDateTime::from_unix_timestamp(1_779_321_600).unwrap();
        assert_eq!(format_time(t), "2026-05-21T00:00:00.000Z");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_instant_never_panics_and_stays_in_range(
            raw in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})|.{0,40}"
        ) {
            if let Ok(at) = parse_instant(&raw, "t") {
                prop_assert!(YEARS.contains(&at.year()), "{at}");
                prop_assert_eq!(at.offset(), time::UtcOffset::UTC);
                // What is stored parses back to the same instant (milliseconds kept).
                let stored = format_time(at);
                let back = parse_instant(&stored, "t").unwrap();
                prop_assert_eq!(back.unix_timestamp(), at.unix_timestamp());
            }
        }

        #[test]
        fn any_offset_within_the_years_is_accepted(secs in 0i64..4_102_444_800, offset_minutes in -1439i32..=1439) {
            let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let raw = utc.to_offset(offset).format(&Rfc3339).unwrap();
            let parsed = parse_instant(&raw, "t").map(OffsetDateTime::unix_timestamp);
            prop_assert_eq!(parsed, Ok(secs));
        }
    }
}
