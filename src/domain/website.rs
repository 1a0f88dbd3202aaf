//! Websites: the contract's website object, and its fields (domain, IANA timezone, ISO 4217 currency,
//! display name) parsed.

use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ObjectId, Role};

/// The website object of the contract (§3).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteView {
    #[serde(rename = "_id")]
    #[schema(value_type = String, example = "665f0b3c4d2e1a0012345678")]
    pub id: ObjectId,
    pub domain: String,
    pub name: Option<String>,
    pub tracking_id: String,
    pub timezone: String,
    pub currency: String,
    #[schema(value_type = String, example = "owner")]
    pub role: Role,
    /// DataFast's field: the Dashboard's main revenue figure. In one website's answer, not in the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue_metric: Option<RevenueMetric>,
}

/// What the Dashboard leads with: the revenue of the range, or MRR now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevenueMetric {
    #[default]
    Revenue,
    Mrr,
}

impl RevenueMetric {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "revenue" => Ok(Self::Revenue),
            "mrr" => Ok(Self::Mrr),
            other => Err(format!("Invalid revenueMetric: {other:?} must be \"revenue\" or \"mrr\"")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Revenue => "revenue",
            Self::Mrr => "mrr",
        }
    }
}

/// What `POST /websites` answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebsite {
    #[schema(value_type = String)]
    pub website_id: ObjectId,
    pub domain: String,
    pub tracking_id: String,
}

pub struct NewWebsite {
    pub domain: String,
    pub name: Option<String>,
    pub timezone: String,
}

/// Fields of `PUT /websites/{id}`; `None` leaves a field as it is (`Some(None)` clears the name).
#[derive(Default)]
#[allow(clippy::option_option)]
pub struct WebsiteChanges {
    pub domain: Option<String>,
    pub name: Option<Option<String>>,
    pub timezone: Option<String>,
    pub currency: Option<String>,
    pub revenue_metric: Option<RevenueMetric>,
}

/// Lower-cases, converts an internationalised name to its ASCII form, and checks the DNS rules.
/// The contract asks for a bare domain: a scheme, path, port or whitespace is refused with a hint.
pub fn parse_domain(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("domain is required (e.g. example.com)".into());
    }
    if trimmed.contains("://") {
        return Err("Invalid domain: give the domain without a scheme (example.com, not https://example.com)".into());
    }
    if trimmed.contains(['/', ':', '?', '#', '@']) || trimmed.chars().any(char::is_whitespace) {
        return Err(format!(
            "Invalid domain: {trimmed:?} must be a bare domain such as example.com, without path or port"
        ));
    }
    let ascii = idna::domain_to_ascii(trimmed.trim_end_matches('.'))
        .map_err(|_| format!("Invalid domain: {trimmed:?} is not a valid domain name"))?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !labels_ok || ascii.len() > 253 {
        return Err(format!("Invalid domain: {trimmed:?} is not a valid domain name (e.g. example.com)"));
    }
    Ok(ascii)
}

/// Accepts IANA time zone names (`Europe/Berlin`, `UTC`).
pub fn parse_timezone(raw: &str) -> Result<String, String> {
    chrono_tz::Tz::from_str(raw.trim())
        .map(|tz| tz.name().to_owned())
        .map_err(|_| format!("Invalid timezone: {raw:?} is not an IANA time zone name (e.g. America/New_York)"))
}

/// Accepts circulating ISO 4217 codes in any case; answers upper case.
pub fn parse_currency(raw: &str) -> Result<String, String> {
    crate::domain::money::circulating(raw).map(|c| c.code().to_owned()).ok_or_else(|| {
        format!("Invalid currency: {raw:?} is not the ISO 4217 code of a circulating currency (e.g. USD)")
    })
}

/// Names are optional, trimmed, and at most 100 characters; an empty name means none.
pub fn parse_name(raw: Option<&str>, field: &str) -> Result<Option<String>, String> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 100 {
        return Err(format!("{field} must be at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(parse_domain("Example.COM").unwrap(), "example.com");
        assert_eq!(parse_domain("münchen.de").unwrap(), "xn--mnchen-3ya.de");
        assert!(parse_domain("https://example.com").unwrap_err().contains("without a scheme"));
        assert!(parse_domain("example.com/path").is_err());
        assert!(parse_domain("example.com:8080").is_err());
        assert!(parse_domain("localhost").is_err());
        assert!(parse_domain("-bad.com").is_err());
        assert!(parse_domain("").is_err());
    }

    #[test]
    fn timezones_and_currencies() {
        assert_eq!(parse_timezone("Europe/Berlin").unwrap(), "Europe/Berlin");
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert_eq!(parse_currency("eur").unwrap(), "EUR");
        assert!(parse_currency("EURO").is_err());
        assert!(parse_currency("XYZ").is_err());
        assert!(parse_currency("XAU").is_err(), "gold is not a currency payments are counted in");
    }

    #[test]
    fn revenue_metrics() {
        assert_eq!(
            (RevenueMetric::parse("mrr"), RevenueMetric::parse(" revenue ")),
            (Ok(RevenueMetric::Mrr), Ok(RevenueMetric::Revenue))
        );
        assert_eq!(
            RevenueMetric::parse("MRR").unwrap_err(),
            "Invalid revenueMetric: \"MRR\" must be \"revenue\" or \"mrr\""
        );
    }

    #[test]
    fn names() {
        assert_eq!(parse_name(Some("  "), "name").unwrap(), None);
        assert_eq!(parse_name(Some(" Shop "), "name").unwrap().as_deref(), Some("Shop"));
        assert!(parse_name(Some(&"x".repeat(101)), "name").is_err());
        assert!(parse_name(Some("a\u{0}b"), "name").unwrap_err().contains("control characters"));
        assert!(parse_name(Some("tab\there"), "name").is_err());
    }
}
