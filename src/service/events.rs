//! Tracking events (contract §2-§4): `ingest` checks an event against its website, derives what it says
//! about its visitor and stores it through the writer (durable once answered); `allowed_origin` answers a
//! CORS preflight. The website's tracking settings apply here: excluded IP ranges and paths (answered, not
//! stored) and cookieless mode (a body's visitor id ignored). The client's address is used for the
//! exclusions, the cookieless hash and the GeoIP lookup only: never stored or logged.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::sync::Cache;

use time::OffsetDateTime;
use url::Url;

use crate::db::tracking::{self, StoredTracking};
use crate::db::visitors::{self, TrackedSite};
use crate::domain::ObjectId;
use crate::domain::cookieless::CookielessKey;
use crate::domain::event::EventInput;
use crate::domain::site_hosts::SiteHosts;
use crate::domain::tracking::TrackingMode;
use crate::domain::user_agent::{self, Agent};
use crate::domain::visit::{self, Acquisition, Identity, NewVisit};
use crate::error::Error;
use crate::geoip::Location;
use crate::service::App;

/// Who sent an event, as the HTTP edge saw it.
pub struct Sender {
    pub address: IpAddr,
    pub user_agent: String,
    /// What the configured country header said (a trusted proxy's), unchecked.
    pub country: Option<String>,
    /// The request's `Origin`, if any.
    pub origin: Option<String>,
}

/// What became of an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored; the origin to allow in the answer's CORS headers, when the request came from one of the
    /// website's hosts.
    Stored { allow_origin: Option<String> },
    /// A bot's: answered as a success, not stored.
    Bot,
    /// From an excluded IP range or on an excluded path (the website's settings): answered as a success, not
    /// stored; the origin as for `Stored`.
    Excluded { allow_origin: Option<String> },
}

/// The website each tracking id names, with its tracking settings, as events need them: read once, then from
/// memory until a website or its settings change (`forget`, called by those services) or a minute passes.
pub struct SiteCache(Cache<String, Arc<(TrackedSite, StoredTracking)>>);

impl Default for SiteCache {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(10_000).time_to_live(Duration::from_mins(1)).build())
    }
}

impl SiteCache {
    /// Drops every cached website: the next event of each reads it again.
    pub fn forget(&self) {
        self.0.invalidate_all();
    }
}

/// What each user agent says (`user_agent::visitor`: a bot, or its device, browser and OS), remembered. Visitors
/// send the same few thousand user agents again and again, and reading one (the bot patterns, then Woothee) was
/// the largest part of an event's own work. Only user agents of at most `MAX_CACHED_AGENT` bytes are kept (a
/// browser's is about 150), so the cache stays within a few megabytes whatever requests send.
pub struct AgentCache(Cache<String, Option<Agent>>);

const MAX_CACHED_AGENT: usize = 512;

impl Default for AgentCache {
    fn default() -> Self {
        Self(Cache::new(4_096))
    }
}

impl AgentCache {
    fn read(&self, user_agent: &str) -> Option<Agent> {
        if user_agent.len() > MAX_CACHED_AGENT {
            return user_agent::visitor(user_agent);
        }
        self.0.get_with_by_ref(user_agent, || user_agent::visitor(user_agent))
    }
}

/// Checks and stores one event.
pub async fn ingest(app: &App, sender: Sender, event: EventInput) -> Result<Ingested, Error> {
    let Some(agent) = app.agents.read(&sender.user_agent) else { return Ok(Ingested::Bot) };
    let found = match app.sites.0.get(&event.tracking_id) {
        Some(known) => Some(known),
        None => {
            let tracking_id = event.tracking_id.clone();
            let read = app
                .db
                .run(move |c| {
                    let Some(site) = visitors::site_by_tracking_id(c, &tracking_id)? else { return Ok(None) };
                    let settings = tracking::get(c, &site.website_id)?;
                    Ok(Some(Arc::new((site, settings))))
                })
                .await?;
            if let Some(known) = &read {
                app.sites.0.insert(event.tracking_id.clone(), Arc::clone(known));
            }
            read
        }
    };
    let (site, settings) = found.as_deref().ok_or_else(|| {
        Error::NotFound(format!(
            "No website has the tracking id {:?}; copy data-website-id from the website's settings",
            event.tracking_id
        ))
    })?;
    let hosts = SiteHosts::new(&site.domain, &site.allowed_hostnames);
    let hostname = visit::hostname(&event.href);
    if !hosts.admits(&hostname) {
        return Err(Error::Forbidden(format!(
            "{hostname} is not {}, one of its subdomains or one of the website's allowed hostnames",
            site.domain
        )));
    }
    let allow_origin = sender.origin.clone().filter(|origin| origin_host(origin).is_some_and(|h| hosts.admits(&h)));
    let exclusions = app.tracking_rules.exclusions(&settings.excluded_ips, &settings.excluded_paths);
    if exclusions
        .is_some_and(|ex| ex.excludes_address(sender.address) || ex.excludes_path(&visit::page_path(&event.href)))
    {
        return Ok(Ingested::Excluded { allow_origin });
    }
    let visit = new_visit(app, &sender, &event, &hosts, agent, site.website_id.clone(), settings.mode)?;
    // Unsynced: answered once in the WAL (a crash of revlink loses nothing), on disk within 2 s (a power cut may
    // lose those 2 s of visits); payments stay synced at each commit.
    app.db.write_unsynced(move |c| visitors::record(c, &visit)).await?;
    Ok(Ingested::Stored { allow_origin })
}

/// What is stored of `event`: its visitor (the body's in cookie mode, else the cookieless hash), and its
/// acquisition.
fn new_visit(
    app: &App,
    sender: &Sender,
    event: &EventInput,
    hosts: &SiteHosts,
    agent: Agent,
    website_id: ObjectId,
    mode: TrackingMode,
) -> Result<NewVisit, Error> {
    let visitor_id = match &event.visitor_id {
        Some(id) if mode == TrackingMode::Cookie => id.clone(),
        _ => app.cookieless.visitor_id(sender.address, &sender.user_agent, &website_id)?,
    };
    let location = locate(app, sender);
    let mut acquisition = Acquisition::derive(event, hosts, agent, location.country);
    (acquisition.region, acquisition.city) = (location.region, location.city);
    let now = OffsetDateTime::now_utc();
    Ok(NewVisit {
        website_id,
        visitor_id,
        session_id: event.session_id.clone(),
        fresh_session_id: format!("s{}", uuid_like(rand::random::<[u8; 16]>())),
        at: i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        kind: event.kind,
        name: event.name.clone(),
        path: visit::page_path(&event.href),
        hostname: acquisition.hostname.clone(),
        params: visit::params_json(&event.params),
        identity: Identity::from_event(event.kind, &event.params),
        acquisition,
    })
}

/// Where the sender is: from the GeoIP database when one is configured, else (or when it does not know the
/// country) the country a trusted proxy named; else unknown.
fn locate(app: &App, sender: &Sender) -> Location {
    let mut location = app.geoip.as_ref().map(|db| db.locate(sender.address)).unwrap_or_default();
    location.country = location.country.as_deref().and_then(visit::country_code);
    if location.country.is_none() {
        location.country = sender.country.as_deref().and_then(visit::country_code);
    }
    location
}

/// A random UUID's shape from 16 random bytes (version 4, RFC 4122 variant), as the script makes them.
fn uuid_like(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The host of an `Origin` header (`https://blog.example.com`), if it is an http(s) origin.
fn origin_host(origin: &str) -> Option<String> {
    let url = Url::parse(origin.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| visit::hostname(&url)).filter(|h| !h.is_empty())
}

/// The origin to allow for a CORS preflight: `origin` itself when its host is a website's domain, one of its
/// subdomains or allowed hostnames; `None` otherwise. (A preflight names no website.)
pub async fn allowed_origin(app: &App, origin: &str) -> Result<Option<String>, Error> {
    let Some(host) = origin_host(origin) else { return Ok(None) };
    let sites = app.db.run(|c| visitors::all_site_hosts(c)).await?;
    let admitted = sites.iter().any(|(domain, allowed)| SiteHosts::new(domain, allowed).admits(&host));
    Ok(admitted.then(|| origin.trim().to_owned()))
}

/// The cookieless key of the current UTC day, made at the day's first cookieless event and replaced (the old
/// one dropped) at the next day's: kept in memory only, so a restart also starts a new one.
#[derive(Default)]
pub struct DailySalt(Mutex<Option<(i64, CookielessKey)>>);

impl DailySalt {
    /// The visitor id of this address and user agent on this website today.
    pub fn visitor_id(&self, address: IpAddr, user_agent: &str, website: &ObjectId) -> Result<String, Error> {
        let today = OffsetDateTime::now_utc().unix_timestamp().div_euclid(86_400);
        let key = {
            let mut slot = self.0.lock().map_err(|_| Error::internal("the cookieless key's lock is poisoned"))?;
            let current = slot.as_ref().filter(|(day, _)| *day == today).map(|(_, key)| key.clone());
            match current {
                Some(key) => key,
                None => {
                    let key = CookielessKey::new(&rand::random::<[u8; 64]>())
                        .ok_or_else(|| Error::internal("HMAC refused a 64-byte key"))?;
                    *slot = Some((today, key.clone()));
                    key
                }
            }
        };
        Ok(key.visitor_id(address, user_agent, website))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_remembered_as_read_and_long_ones_are_not_kept() {
        const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                              Chrome/124.0.0.0 Safari/537.36";
        let agents = AgentCache::default();
        let chrome = agents.read(CHROME);
        assert_eq!(chrome.as_ref().and_then(|a| a.browser.as_deref()), Some("Chrome"));
        assert_eq!(agents.read(CHROME), chrome, "the remembered answer is the same");
        assert_eq!(agents.read("curl/8.5.0"), None, "a bot stays a bot");
        let long = format!("{CHROME} {}", "x".repeat(MAX_CACHED_AGENT));
        assert_eq!(agents.read(&long), chrome, "a long one is read all the same");
        agents.0.run_pending_tasks();
        assert!(agents.0.contains_key(CHROME) && agents.0.contains_key("curl/8.5.0"));
        assert!(!agents.0.contains_key(long.as_str()), "but not kept");
    }

    #[test]
    fn origins_are_read_for_their_host() {
        assert_eq!(origin_host("https://Blog.Example.com").as_deref(), Some("blog.example.com"));
        assert_eq!(origin_host("http://localhost:3000").as_deref(), Some("localhost"));
        assert_eq!(origin_host("null"), None);
        assert_eq!(origin_host("file://"), None);
    }

    #[test]
    fn fresh_session_ids_look_like_the_scripts() {
        let id = uuid_like([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn the_salt_gives_one_id_per_address_agent_and_website() {
        let salt = DailySalt::default();
        let site = ObjectId::parse("665f0b3c4d2e1a0012345678").unwrap();
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(salt.visitor_id(ip, "UA", &site).unwrap(), salt.visitor_id(ip, "UA", &site).unwrap());
        let other = DailySalt::default();
        assert_ne!(salt.visitor_id(ip, "UA", &site).unwrap(), other.visitor_id(ip, "UA", &site).unwrap());
    }
}
