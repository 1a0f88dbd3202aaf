//! A tracking event as the script sends it (contract §2), checked: what `POST /api/events` accepts. Every
//! refusal says what to fix.

use serde_json::{Map, Value};
use url::Url;

/// The longest `href` or `referrer` kept, in bytes.
pub const MAX_URL: usize = 2048;
/// The longest visitor or session id.
const MAX_ID: usize = 128;
/// A custom goal's parameters, at most.
const MAX_PARAMS: usize = 10;
/// The longest parameter value, in characters.
const MAX_VALUE: usize = 255;
/// The longest goal name.
const MAX_GOAL_NAME: usize = 64;

/// The kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Pageview,
    Custom,
    Payment,
    Identify,
    ExternalLink,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pageview => "pageview",
            Self::Custom => "custom",
            Self::Payment => "payment",
            Self::Identify => "identify",
            Self::ExternalLink => "external_link",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Pageview, Self::Custom, Self::Payment, Self::Identify, Self::ExternalLink]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }

    /// The `extraData` keys this kind keeps (a custom goal keeps its own, checked).
    fn known_params(self) -> &'static [&'static str] {
        match self {
            Self::Pageview | Self::Custom => &[],
            Self::Payment => &["email", "stripe_session_id", "polar_checkout_id", "lemonsqueezy_order_id"],
            Self::Identify => &["user_id", "name", "email"],
            Self::ExternalLink => &["url", "text"],
        }
    }
}

/// The browser window's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
}

/// A checked event.
#[derive(Debug, Clone)]
pub struct EventInput {
    /// The website's tracking id (`dfid_…`).
    pub tracking_id: String,
    /// The page, an http(s) URL.
    pub href: Url,
    /// An unreadable referrer, or one without a host, is no referrer (browsers send odd ones).
    pub referrer: Option<Url>,
    pub viewport: Option<Viewport>,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    /// The keys of `adClickIds` (the kinds of ad click id; their values are not kept).
    pub ad_click_kinds: Vec<String>,
    pub kind: EventKind,
    /// A custom goal's name, lower-cased.
    pub name: Option<String>,
    /// `extraData` as kept: string values, in the order sent.
    pub params: Vec<(String, String)>,
}

type Body = Map<String, Value>;

/// A goal's name and an event's parameters.
type NameAndParams = (Option<String>, Vec<(String, String)>);

impl EventInput {
    /// Reads and checks the JSON body.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err("The body is empty; send the event as a JSON object with websiteId, href and type".into());
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("The body is not valid JSON ({e})"))?;
        let Value::Object(body) = value else {
            return Err("The body must be a JSON object with websiteId, href and type".into());
        };
        let kind = parse_kind(&body)?;
        let (name, params) = parse_extra_data(&body, kind)?;
        Ok(Self {
            tracking_id: text(&body, "websiteId", MAX_ID)?.ok_or_else(|| {
                "websiteId is required: the website's tracking id (dfid_...) from data-website-id".to_owned()
            })?,
            href: parse_href(&body)?,
            referrer: text(&body, "referrer", MAX_URL)?
                .and_then(|r| Url::parse(&r).ok())
                .filter(|u| u.host_str().is_some_and(|h| !h.is_empty())),
            viewport: parse_viewport(&body)?,
            visitor_id: id(&body, "visitorId")?,
            session_id: id(&body, "sessionId")?,
            ad_click_kinds: parse_ad_click_kinds(&body)?,
            kind,
            name,
            params,
        })
    }
}

/// A string field: absent, null or blank is `None`; another type, a control character or more than `max`
/// bytes is refused.
fn text(body: &Body, name: &str, max: usize) -> Result<Option<String>, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() > max => Err(format!("{name} must be at most {max} bytes")),
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            Err(format!("{name} must not contain control characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// Whether `raw` is a visitor or session id: 1 to 128 letters, digits, `-`, `_`, `.` and `:`, as the script's
/// UUIDs are (the tracking endpoint's rule, and the analytics API's for the ids it is given).
pub fn is_client_id(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= MAX_ID && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A visitor or session id (`is_client_id`).
fn id(body: &Body, name: &str) -> Result<Option<String>, String> {
    let value = text(body, name, MAX_ID)?;
    if value.as_deref().is_some_and(|v| !is_client_id(v)) {
        return Err(format!("{name} may hold only letters, digits, '-', '_', '.' and ':' (the script sends a UUID)"));
    }
    Ok(value)
}

fn parse_kind(body: &Body) -> Result<EventKind, String> {
    let raw =
        text(body, "type", 32)?.ok_or("type is required: pageview, custom, payment, identify or external_link")?;
    EventKind::parse(&raw)
        .ok_or_else(|| format!("type {raw:?} is not one of pageview, custom, payment, identify, external_link"))
}

fn parse_href(body: &Body) -> Result<Url, String> {
    let raw = text(body, "href", MAX_URL)?.ok_or("href is required: the page's full URL (location.href)")?;
    let url = Url::parse(&raw).map_err(|e| format!("href is not a URL ({e}); send location.href"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("href must be an http:// or https:// URL with a host name".into());
    }
    Ok(url)
}

fn parse_viewport(body: &Body) -> Result<Option<Viewport>, String> {
    let invalid = || "viewport must be an object {\"width\": pixels, \"height\": pixels}".to_owned();
    let object = match body.get("viewport") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid()),
    };
    let side = |name: &str| {
        object.get(name).and_then(Value::as_f64).filter(|v| (0.0..=100_000.0).contains(v)).ok_or_else(invalid)
    };
    // Checked to lie in 0..=100000 above: the conversion is exact once rounded.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let pixels = |v: f64| v.round() as u32;
    Ok(Some(Viewport { width: pixels(side("width")?), height: pixels(side("height")?) }))
}

fn parse_ad_click_kinds(body: &Body) -> Result<Vec<String>, String> {
    match body.get("adClickIds") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(o)) => Ok(o
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|s| !s.trim().is_empty()))
            .map(|(k, _)| k.to_ascii_lowercase())
            .filter(|k| is_param_key(k))
            .take(MAX_PARAMS)
            .collect()),
        Some(_) => Err("adClickIds must be an object such as {\"gclid\": \"...\"}".into()),
    }
}

/// `extraData`: a custom goal's name and parameters (checked: contract §1), or the keys another kind keeps.
fn parse_extra_data(body: &Body, kind: EventKind) -> Result<NameAndParams, String> {
    let empty = Map::new();
    let extra = match body.get("extraData") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err("extraData must be an object".into()),
    };
    if kind == EventKind::Custom {
        return custom_goal(extra);
    }
    let mut params = Vec::new();
    for key in kind.known_params() {
        if let Some(value) = extra.get(*key).and_then(scalar) {
            params.push(((*key).to_owned(), truncate(&value, MAX_VALUE)));
        }
    }
    if kind == EventKind::Identify && !params.iter().any(|(k, _)| k == "user_id") {
        return Err("extraData.user_id is required for an identify event".into());
    }
    Ok((None, params))
}

fn custom_goal(extra: &Map<String, Value>) -> Result<NameAndParams, String> {
    let name = extra.get("eventName").and_then(Value::as_str).map(|n| n.trim().to_ascii_lowercase());
    let name = name.filter(|n| (1..=MAX_GOAL_NAME).contains(&n.len()) && is_key(n)).ok_or_else(|| {
        format!("extraData.eventName is required for a custom event: 1 to {MAX_GOAL_NAME} lowercase letters, digits, '_' or '-'")
    })?;
    let mut params = Vec::new();
    for (key, value) in extra.iter().filter(|(k, _)| *k != "eventName") {
        let key = key.to_ascii_lowercase();
        if !is_param_key(&key) {
            return Err(format!("goal parameter {key:?} must be 1 to 32 lowercase letters, digits, '_' or '-'"));
        }
        let value = match value {
            Value::Null => continue,
            Value::String(s) if s.chars().count() > MAX_VALUE => {
                return Err(format!("goal parameter {key} must be at most {MAX_VALUE} characters"));
            }
            other => scalar(other).ok_or_else(|| format!("goal parameter {key} must be a string"))?,
        };
        params.push((key, value));
    }
    if params.len() > MAX_PARAMS {
        return Err(format!("a custom goal takes at most {MAX_PARAMS} parameters"));
    }
    Ok((Some(name), params))
}

/// A string, number or boolean as a string, without control characters.
fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(text.chars().filter(|c| !c.is_control()).collect())
}

fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}

fn is_key(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `^[a-z0-9_-]{1,32}$`.
fn is_param_key(s: &str) -> bool {
    (1..=32).contains(&s.len()) && is_key(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<EventInput, String> {
        EventInput::parse(json.as_bytes())
    }

    const BASE: &str = r#""websiteId":"dfid_abc","href":"https://example.com/pricing?utm_source=x""#;

    #[test]
    fn a_pageview_parses() {
        let body = format!(
            r#"{{{BASE},"type":"pageview","referrer":"https://www.google.com/","viewport":{{"width":1440,"height":900}},
               "visitorId":"0b7e4c3a-1d2f-4e5a-9b8c-7d6e5f4a3b2c","sessionId":"s0b7e4c3a-1d2f","adClickIds":{{"gclid":"abc","Bad Key":"x"}},
               "domain":"example.com"}}"#
        );
        let event = parse(&body).unwrap();
        assert_eq!((event.tracking_id.as_str(), event.kind), ("dfid_abc", EventKind::Pageview));
        assert_eq!(event.href.path(), "/pricing");
        assert_eq!(event.referrer.unwrap().host_str(), Some("www.google.com"));
        assert_eq!(event.viewport, Some(Viewport { width: 1440, height: 900 }));
        assert_eq!(event.ad_click_kinds, vec!["gclid"]);
        assert!(event.visitor_id.is_some() && event.session_id.is_some());
    }

    #[test]
    fn custom_goals_are_checked() {
        let ok = parse(&format!(
            r#"{{{BASE},"type":"custom","extraData":{{"eventName":"Signup","Plan":"pro","seats":3,"gone":null}}}}"#
        ))
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("signup"));
        assert_eq!(ok.params, vec![("plan".into(), "pro".into()), ("seats".into(), "3".into())]);
        let no_name = parse(&format!(r#"{{{BASE},"type":"custom"}}"#)).unwrap_err();
        assert!(no_name.contains("eventName is required"), "{no_name}");
        let bad_key = parse(&format!(r#"{{{BASE},"type":"custom","extraData":{{"eventName":"a","b c":"x"}}}}"#));
        assert!(bad_key.unwrap_err().contains("\"b c\""));
        let long = "v".repeat(256);
        let too_long = parse(&format!(r#"{{{BASE},"type":"custom","extraData":{{"eventName":"a","k":"{long}"}}}}"#));
        assert!(too_long.unwrap_err().contains("at most 255"));
        let many = (0..11).map(|i| format!(r#","k{i}":"v""#)).collect::<Vec<_>>().concat();
        let too_many = parse(&format!(r#"{{{BASE},"type":"custom","extraData":{{"eventName":"a"{many}}}}}"#));
        assert!(too_many.unwrap_err().contains("at most 10"));
    }

    #[test]
    fn other_kinds_keep_their_known_keys() {
        let link = parse(&format!(
            r#"{{{BASE},"type":"external_link","extraData":{{"url":"https://other.io/","text":"Other","x":"y"}}}}"#
        ))
        .unwrap();
        assert_eq!(link.params, vec![("url".into(), "https://other.io/".into()), ("text".into(), "Other".into())]);
        assert!(parse(&format!(r#"{{{BASE},"type":"identify","extraData":{{}}}}"#)).unwrap_err().contains("user_id"));
    }

    #[test]
    fn malformed_bodies_say_what_to_fix() {
        for (body, says) in [
            ("", "empty"),
            ("{", "not valid JSON"),
            ("[]", "JSON object"),
            (r#"{"href":"https://example.com/","type":"pageview"}"#, "websiteId is required"),
            (r#"{"websiteId":"dfid_a","type":"pageview"}"#, "href is required"),
            (r#"{"websiteId":"dfid_a","href":"not a url","type":"pageview"}"#, "href is not a URL"),
            (r#"{"websiteId":"dfid_a","href":"file:///tmp/x.html","type":"pageview"}"#, "http:// or https://"),
            (r#"{"websiteId":"dfid_a","href":"https://example.com/"}"#, "type is required"),
            (r#"{"websiteId":"dfid_a","href":"https://example.com/","type":"click"}"#, "is not one of"),
            (r#"{"websiteId":7,"href":"https://example.com/","type":"pageview"}"#, "websiteId must be a string"),
            (
                r#"{"websiteId":"dfid_a","href":"https://example.com/","type":"pageview","visitorId":"a b"}"#,
                "visitorId may hold",
            ),
            (
                r#"{"websiteId":"dfid_a","href":"https://example.com/","type":"pageview","viewport":5}"#,
                "viewport must be",
            ),
            (
                r#"{"websiteId":"dfid_a","href":"https://example.com/","type":"pageview","extraData":[]}"#,
                "extraData must be",
            ),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn an_unreadable_referrer_is_none() {
        let event = parse(&format!(r#"{{{BASE},"type":"pageview","referrer":"android-app:"}}"#)).unwrap();
        assert!(event.referrer.is_none());
    }
}
