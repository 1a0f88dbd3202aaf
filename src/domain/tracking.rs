//! A website's tracking settings (issue 10, "Privacy and settings"): cookie or cookieless mode, its allowed
//! hostnames, and the client networks and page paths whose events are not stored. Parsed from what a person
//! types (comma or newline separated), stored one per line, and compiled into `Exclusions` for the events.

use std::net::IpAddr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ipnet::IpNet;
use serde::Serialize;

use crate::domain::website::parse_domain;

/// At most this many entries in each list: the lists are checked on every event.
pub const MAX_ENTRIES: usize = 100;
/// The longest path pattern, in characters.
const MAX_PATTERN: usize = 512;

/// How the website's visitors are named (contract §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackingMode {
    /// The script's `datafast_visitor_id` cookie names the visitor.
    #[default]
    Cookie,
    /// Any visitor id in the body is ignored; the server derives one from a daily-keyed hash.
    Cookieless,
}

impl TrackingMode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "cookie" => Ok(Self::Cookie),
            "cookieless" => Ok(Self::Cookieless),
            other => Err(format!("Invalid tracking mode {other:?}: choose cookie or cookieless")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Cookieless => "cookieless",
        }
    }

    /// The script file the install snippet names.
    pub fn script_file(self) -> &'static str {
        match self {
            Self::Cookie => "script.js",
            Self::Cookieless => "script.cookieless.js",
        }
    }
}

/// A website's tracking settings, each list validated and normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackingSettings {
    pub mode: TrackingMode,
    /// Host names (ASCII, lower case); each admits its subdomains too (see `SiteHosts`).
    pub allowed_hostnames: Vec<String>,
    /// Networks, host bits cleared (`203.0.113.0/24`, `2001:db8::/32`).
    pub excluded_ips: Vec<IpNet>,
    /// Glob patterns on the page path (`/admin/*`).
    pub excluded_paths: Vec<String>,
}

impl TrackingSettings {
    /// From the form's fields: `mode`, and three lists separated by commas or new lines.
    pub fn parse(
        mode: &str,
        allowed_hostnames: &str,
        excluded_ips: &str,
        excluded_paths: &str,
    ) -> Result<Self, String> {
        Ok(Self {
            mode: TrackingMode::parse(mode)?,
            allowed_hostnames: parse_hostnames(allowed_hostnames)?,
            excluded_ips: parse_networks(excluded_ips)?,
            excluded_paths: parse_path_patterns(excluded_paths)?,
        })
    }

    /// As stored: allowed hostnames comma-separated (the form `SiteHosts` reads), the other lists one per line.
    pub fn stored_hostnames(&self) -> String {
        self.allowed_hostnames.join(",")
    }

    pub fn stored_ips(&self) -> String {
        self.excluded_ips.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }

    pub fn stored_paths(&self) -> String {
        self.excluded_paths.join("\n")
    }
}

/// The entries of a list typed as comma- or newline-separated values, trimmed, blanks dropped.
fn entries(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([',', '\n', '\r']).map(str::trim).filter(|e| !e.is_empty())
}

fn at_most(count: usize, what: &str) -> Result<(), String> {
    if count > MAX_ENTRIES {
        return Err(format!("At most {MAX_ENTRIES} {what}; {count} were given"));
    }
    Ok(())
}

/// Host names such as `app.example.com`, comma or newline separated: each a valid domain (no scheme, path or
/// port), internationalised names converted to ASCII; duplicates dropped.
pub fn parse_hostnames(raw: &str) -> Result<Vec<String>, String> {
    let mut hosts: Vec<String> = Vec::new();
    for entry in entries(raw) {
        let host = parse_domain(entry).map_err(|e| format!("Allowed hostnames: {e}"))?;
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    at_most(hosts.len(), "allowed hostnames")?;
    Ok(hosts)
}

/// CIDR networks (`203.0.113.0/24`, `2001:db8::/32`) or single addresses, comma or newline separated; host bits
/// are cleared (`203.0.113.7/24` is `203.0.113.0/24`), duplicates dropped.
pub fn parse_networks(raw: &str) -> Result<Vec<IpNet>, String> {
    let mut networks: Vec<IpNet> = Vec::new();
    for entry in entries(raw) {
        let network = entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                format!(
                    "Excluded IP ranges: {entry:?} is not an IP address or CIDR range (e.g. 203.0.113.0/24 or \
                     2001:db8::/32)"
                )
            })?
            .trunc();
        if !networks.contains(&network) {
            networks.push(network);
        }
    }
    at_most(networks.len(), "excluded IP ranges")?;
    Ok(networks)
}

/// Glob patterns on the page path, comma or newline separated: each starts with `/`; `*` matches any characters
/// (`/` included), `?` one, `[abc]` one of a set.
pub fn parse_path_patterns(raw: &str) -> Result<Vec<String>, String> {
    let mut patterns: Vec<String> = Vec::new();
    for entry in entries(raw) {
        if !entry.starts_with('/') {
            return Err(format!("Excluded paths: {entry:?} must start with / (e.g. /admin/*)"));
        }
        if entry.chars().count() > MAX_PATTERN || entry.chars().any(char::is_control) {
            return Err(format!("Excluded paths: {entry:?} must be at most {MAX_PATTERN} printable characters"));
        }
        Glob::new(entry).map_err(|e| format!("Excluded paths: {entry:?} is not a valid pattern ({})", e.kind()))?;
        if !patterns.iter().any(|p| p == entry) {
            patterns.push(entry.to_owned());
        }
    }
    at_most(patterns.len(), "excluded paths")?;
    Ok(patterns)
}

/// The compiled exclusions of one website: which client networks and page paths are not tracked.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    networks: Vec<IpNet>,
    paths: GlobSet,
}

impl Exclusions {
    /// From the stored lists (one entry per line, or comma-separated).
    pub fn compile(excluded_ips: &str, excluded_paths: &str) -> Result<Self, String> {
        let networks = parse_networks(excluded_ips)?;
        let mut set = GlobSetBuilder::new();
        for pattern in parse_path_patterns(excluded_paths)? {
            set.add(Glob::new(&pattern).map_err(|e| e.to_string())?);
        }
        let paths = set.build().map_err(|e| e.to_string())?;
        Ok(Self { networks, paths })
    }

    /// Whether events from `address` are not tracked (an IPv4 address written as IPv6, `::ffff:a.b.c.d`, counts
    /// as the IPv4 address).
    pub fn excludes_address(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|n| n.contains(&address))
    }

    /// Whether events on the page `path` (`/admin/users`) are not tracked.
    pub fn excludes_path(&self, path: &str) -> bool {
        !self.paths.is_empty() && self.paths.is_match(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn modes_are_cookie_or_cookieless() {
        assert_eq!(TrackingMode::parse("cookie"), Ok(TrackingMode::Cookie));
        assert_eq!(TrackingMode::parse(" cookieless "), Ok(TrackingMode::Cookieless));
        assert!(TrackingMode::parse("none").unwrap_err().contains("cookie or cookieless"));
        assert_eq!(TrackingMode::Cookieless.script_file(), "script.cookieless.js");
        assert_eq!(TrackingMode::default().script_file(), "script.js");
    }

    #[test]
    fn hostnames_are_comma_or_newline_separated_valid_hosts() {
        let hosts = parse_hostnames(" Shop.Example.NET,\r\npartner.io\n\n, partner.io, münchen.de ").unwrap();
        assert_eq!(hosts, vec!["shop.example.net", "partner.io", "xn--mnchen-3ya.de"]);
        assert!(parse_hostnames("https://partner.io").unwrap_err().contains("without a scheme"));
        assert!(parse_hostnames("partner.io/path").unwrap_err().starts_with("Allowed hostnames:"));
        assert!(parse_hostnames("partner.io:8080").is_err());
        assert!(parse_hostnames("two words.io").is_err());
        assert_eq!(parse_hostnames(" \n ").unwrap(), Vec::<String>::new());
        let many: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("h{i}.example.com")).collect();
        assert!(parse_hostnames(&many.join(",")).unwrap_err().contains("At most 100"));
    }

    #[test]
    fn networks_are_cidr_ranges_or_addresses_of_either_family() {
        let nets = parse_networks("203.0.113.7/24\n2001:db8::1/32, 198.51.100.9,::1, 203.0.113.0/24").unwrap();
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["203.0.113.0/24", "2001:db8::/32", "198.51.100.9/32", "::1/128"]);
        for bad in ["203.0.113.0/33", "300.1.1.1", "example.com", "10.0.0.0/", "2001:db8::/129"] {
            let err = parse_networks(bad).unwrap_err();
            assert!(err.contains("is not an IP address or CIDR range"), "{bad}: {err}");
        }
    }

    #[test]
    fn path_patterns_start_with_a_slash_and_compile() {
        assert_eq!(
            parse_path_patterns("/admin/*, /preview-?\n/a/[bc]").unwrap(),
            ["/admin/*", "/preview-?", "/a/[bc]"]
        );
        assert!(parse_path_patterns("admin/*").unwrap_err().contains("must start with /"));
        assert!(parse_path_patterns("/a/[b").unwrap_err().contains("not a valid pattern"));
        assert!(parse_path_patterns(&format!("/{}", "a".repeat(MAX_PATTERN))).is_err());
    }

    #[test]
    fn addresses_inside_an_excluded_range_are_excluded() {
        let ex = Exclusions::compile("203.0.113.0/24\n2001:db8::/32", "").unwrap();
        assert!(ex.excludes_address(ip("203.0.113.1")) && ex.excludes_address(ip("203.0.113.255")));
        assert!(!ex.excludes_address(ip("203.0.114.1")) && !ex.excludes_address(ip("198.51.100.1")));
        assert!(ex.excludes_address(ip("2001:db8:ffff::1")));
        assert!(!ex.excludes_address(ip("2001:db9::1")));
        assert!(ex.excludes_address(ip("::ffff:203.0.113.9")), "an IPv4-mapped address is its IPv4 address");
        assert!(!Exclusions::default().excludes_address(ip("203.0.113.1")));
    }

    #[test]
    fn paths_matching_an_excluded_pattern_are_excluded() {
        let ex = Exclusions::compile("", "/admin/*\n/preview\n/draft-?").unwrap();
        for path in ["/admin/", "/admin/users", "/admin/users/5/edit", "/preview", "/draft-1"] {
            assert!(ex.excludes_path(path), "{path}");
        }
        for path in ["/admin", "/administrator", "/previews", "/", "/draft-12", "/blog/admin/x"] {
            assert!(!ex.excludes_path(path), "{path}");
        }
        assert!(!Exclusions::default().excludes_path("/anything"));
    }

    #[test]
    fn settings_round_trip_through_their_stored_form() {
        let s = TrackingSettings::parse("cookieless", "a.io\nb.io", "203.0.113.0/24, ::1", "/admin/*\n/x").unwrap();
        assert_eq!((s.stored_hostnames().as_str(), s.stored_ips().as_str()), ("a.io,b.io", "203.0.113.0/24\n::1/128"));
        let again = TrackingSettings::parse("cookieless", &s.stored_hostnames(), &s.stored_ips(), &s.stored_paths());
        assert_eq!(again.unwrap(), s);
        assert!(Exclusions::compile(&s.stored_ips(), &s.stored_paths()).unwrap().excludes_path("/admin/1"));
    }
}
