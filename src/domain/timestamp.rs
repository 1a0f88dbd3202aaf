//! The one timestamp format of every stored and answered time: `2026-05-21T00:00:00.000Z`.

use time::OffsetDateTime;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, Iso8601, TimePrecision};

const ISO_MILLIS: EncodedConfig =
    Config::DEFAULT.set_time_precision(TimePrecision::Second { decimal_digits: std::num::NonZeroU8::new(3) }).encode();

/// `2026-05-21T00:00:00.000Z`: the timestamp format of every stored and answered time.
pub fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&Iso8601::<ISO_MILLIS>).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn now() -> String {
    format_time(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_milliseconds_and_z() {
        let t = OffsetDateTime::from_unix_timestamp(1_779_321_600).unwrap();
        assert_eq!(format_time(t), "2026-05-21T00:00:00.000Z");
    }
}
