//! What revlink stores of an accepted event (contract §2-§3): the event itself, and the visitor's
//! acquisition, derived from the event's page, referrer and user agent and kept from the visitor's first event
//! on (first touch).

use url::Url;

use crate::domain::ObjectId;
use crate::domain::event::{EventInput, EventKind, Viewport};
use crate::domain::site_hosts::SiteHosts;
use crate::domain::traffic_source::{self, Referrer};
use crate::domain::user_agent::Agent;

/// A session ends after this long without an event (the script's session cookie lasts as long).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;

/// Ad click id parameters whose presence in a landing page is recorded (their values are not).
const AD_CLICK_IDS: &[&str] = &[
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "twclid",
    "li_fat_id",
    "epik",
    "rdt_cid",
    "sccid",
    "yclid",
];

/// The longest path kept, in characters.
const MAX_PATH: usize = 512;
/// The longest campaign value kept, in characters.
const MAX_CAMPAIGN_VALUE: usize = 255;

/// The campaign parameters of a landing page's URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaign {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub ref_: Option<String>,
    pub source: Option<String>,
    pub via: Option<String>,
    /// The kinds of ad click id in the URL, in `AD_CLICK_IDS` order.
    pub ad_click_kinds: Vec<&'static str>,
}

impl Campaign {
    /// From the URL's query: the first non-blank value of each parameter (names compared without case).
    pub fn from_url(url: &Url) -> Self {
        let mut campaign = Self::default();
        for (name, value) in url.query_pairs() {
            let name = name.to_ascii_lowercase();
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if let Some(kind) = AD_CLICK_IDS.iter().find(|k| **k == name) {
                if !campaign.ad_click_kinds.contains(kind) {
                    campaign.ad_click_kinds.push(*kind);
                }
                continue;
            }
            let slot = match name.as_str() {
                "utm_source" => &mut campaign.utm_source,
                "utm_medium" => &mut campaign.utm_medium,
                "utm_campaign" => &mut campaign.utm_campaign,
                "utm_term" => &mut campaign.utm_term,
                "utm_content" => &mut campaign.utm_content,
                "ref" => &mut campaign.ref_,
                "source" => &mut campaign.source,
                "via" => &mut campaign.via,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(clean(value, MAX_CAMPAIGN_VALUE));
            }
        }
        campaign.ad_click_kinds.sort_by_key(|k| AD_CLICK_IDS.iter().position(|known| known == k));
        campaign
    }
}

/// At most `max` characters, without control characters.
fn clean(value: &str, max: usize) -> String {
    value.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A page's path as the reports show it: the URL's path, without query or fragment.
pub fn page_path(url: &Url) -> String {
    let path = clean(url.path(), MAX_PATH);
    if path.is_empty() { "/".to_owned() } else { path }
}

/// An ISO 3166-1 alpha-2 code as a proxy names it (`de`, `DE`), upper-cased; none for the codes proxies use
/// for "unknown" (`XX`, `ZZ`) or Tor (`T1`), and for anything that is not two letters.
pub fn country_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    let letters = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
    (letters && !matches!(code.as_str(), "XX" | "ZZ")).then_some(code)
}

/// A visitor's first-touch values (contract §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquisition {
    pub referrer: Referrer,
    pub campaign: Campaign,
    /// Ad click id kinds, from the URL and the body's `adClickIds`, comma-separated; `None` for none.
    pub ad_click_ids: Option<String>,
    pub landing_path: String,
    pub hostname: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub agent: Agent,
    pub viewport: Option<Viewport>,
}

impl Acquisition {
    /// What `event` (on one of `site`'s hosts) says about where its visitor came from.
    pub fn derive(event: &EventInput, site: &SiteHosts, agent: Agent, country: Option<String>) -> Self {
        let campaign = Campaign::from_url(&event.href);
        let mut kinds: Vec<String> = campaign.ad_click_kinds.iter().map(|k| (*k).to_owned()).collect();
        for kind in &event.ad_click_kinds {
            if !kinds.contains(kind) {
                kinds.push(kind.clone());
            }
        }
        Self {
            referrer: traffic_source::classify(event.referrer.as_ref(), site),
            campaign,
            ad_click_ids: (!kinds.is_empty()).then(|| kinds.join(",")),
            landing_path: page_path(&event.href),
            hostname: hostname(&event.href),
            country,
            region: None,
            city: None,
            agent,
            viewport: event.viewport,
        }
    }
}

/// The URL's host, lower-cased, without a trailing dot.
pub fn hostname(url: &Url) -> String {
    url.host_str().unwrap_or_default().trim_end_matches('.').to_ascii_lowercase()
}

/// One accepted event, ready to store.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub website_id: ObjectId,
    pub visitor_id: String,
    /// The session the client named; `None` (cookieless): the visitor's latest session while it is recent
    /// (`SESSION_IDLE_MS`), else `fresh_session_id`.
    pub session_id: Option<String>,
    pub fresh_session_id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub kind: EventKind,
    pub name: Option<String>,
    pub path: String,
    pub hostname: String,
    /// The event's parameters as a JSON object; `None` for none.
    pub params: Option<String>,
    /// Stored if this is the visitor's first event, ignored otherwise.
    pub acquisition: Acquisition,
    /// What an identify or payment event says about who the visitor is.
    pub identity: Option<Identity>,
}

impl NewVisit {
    /// A page view of the acquisition's landing page in a session the client named, with nothing else said: what
    /// the seeders, the benches and the tests store (they change the fields their event differs in).
    pub fn pageview(
        website_id: ObjectId,
        visitor_id: String,
        session_id: String,
        at: i64,
        acquisition: Acquisition,
    ) -> Self {
        Self {
            website_id,
            visitor_id,
            session_id: Some(session_id),
            fresh_session_id: String::new(),
            at,
            kind: EventKind::Pageview,
            name: None,
            path: acquisition.landing_path.clone(),
            hostname: acquisition.hostname.clone(),
            params: None,
            acquisition,
            identity: None,
        }
    }
}

/// Who a visitor said they are (`datafast("identify", {user_id, name})`, `datafast("payment", {email})`,
/// `POST /api/v1/identify`): a payment without a visitor id whose customer email is known is attributed to
/// the visitor who gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Option<String>,
    /// Lower-cased; only a well-formed address is kept.
    pub email: Option<String>,
    pub name: Option<String>,
}

impl Identity {
    /// From an event's kind and parameters: an identify event's `user_id`, `name` (and `email`), a payment
    /// event's `email`; `None` when it says nothing about who the visitor is.
    pub fn from_event(kind: EventKind, params: &[(String, String)]) -> Option<Self> {
        if !matches!(kind, EventKind::Identify | EventKind::Payment) {
            return None;
        }
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let identity = Self { user_id: get("user_id"), email: get("email").and_then(|e| email(&e)), name: get("name") };
        (identity != Self::default()).then_some(identity)
    }
}

/// An email address as identities keep it: trimmed, lower-cased, well-formed; `None` otherwise.
pub fn email(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    email_address::EmailAddress::is_valid(&lower).then_some(lower)
}

/// Parameters as a JSON object of strings; `None` when there are none.
pub fn params_json(params: &[(String, String)]) -> Option<String> {
    if params.is_empty() {
        return None;
    }
    let object: serde_json::Map<String, serde_json::Value> =
        params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    Some(serde_json::Value::Object(object).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn campaign_parameters_come_from_the_query() {
        let c = Campaign::from_url(&url(
            "https://example.com/p?UTM_Source=news%20letter&utm_medium=email&utm_campaign=launch&utm_term=t\
             &utm_content=c&ref=ph&source=blog&via=alice&utm_source=second&fbclid=1&gclid=2&gclid=3&msclkid=",
        ));
        assert_eq!(c.utm_source.as_deref(), Some("news letter"), "the first value wins");
        assert_eq!(
            (c.utm_medium.as_deref(), c.utm_campaign.as_deref(), c.utm_term.as_deref(), c.utm_content.as_deref()),
            (Some("email"), Some("launch"), Some("t"), Some("c"))
        );
        assert_eq!(
            (c.ref_.as_deref(), c.source.as_deref(), c.via.as_deref()),
            (Some("ph"), Some("blog"), Some("alice"))
        );
        assert_eq!(c.ad_click_kinds, vec!["gclid", "fbclid"], "blank ones are absent");
        assert_eq!(Campaign::from_url(&url("https://example.com/")), Campaign::default());
    }

    #[test]
    fn paths_drop_query_and_fragment() {
        assert_eq!(page_path(&url("https://example.com/pricing?x=1#top")), "/pricing");
        assert_eq!(page_path(&url("https://example.com")), "/");
        assert_eq!(hostname(&url("https://Blog.Example.COM./a")), "blog.example.com");
    }

    #[test]
    fn country_codes_are_two_letters() {
        assert_eq!(country_code(" de "), Some("DE".into()));
        for unknown in ["XX", "T1", "ZZ", "", "DEU", "1A"] {
            assert_eq!(country_code(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn acquisition_joins_the_url_the_referrer_and_the_body() {
        let body = r#"{"websiteId":"dfid_a","href":"https://www.example.com/landing?utm_source=x&gclid=1",
                      "referrer":"https://t.co/abc","type":"pageview","adClickIds":{"fbclid":"2","gclid":"1"}}"#;
        let event = EventInput::parse(body.as_bytes()).unwrap();
        let site = SiteHosts::new("example.com", "");
        let a = Acquisition::derive(&event, &site, Agent::default(), Some("DE".into()));
        assert_eq!(a.referrer.name, "X");
        assert_eq!(a.campaign.utm_source.as_deref(), Some("x"));
        assert_eq!(a.ad_click_ids.as_deref(), Some("gclid,fbclid"));
        assert_eq!((a.landing_path.as_str(), a.hostname.as_str()), ("/landing", "www.example.com"));
        assert_eq!(a.country.as_deref(), Some("DE"));
    }

    #[test]
    fn params_are_a_json_object() {
        assert_eq!(params_json(&[]), None);
        assert_eq!(params_json(&[("a".into(), "b\"".into())]).as_deref(), Some(r#"{"a":"b\""}"#));
    }
}
