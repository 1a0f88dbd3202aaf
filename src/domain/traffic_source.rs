//! Where a visitor came from (contract §2): the referrer's host and a normalised source name. The known
//! sources are the one table below; any other referrer is named by its host.

use url::Url;

use crate::domain::site_hosts::SiteHosts;

/// What a visit with no referrer, or one from the website itself, is counted as.
pub const DIRECT: &str = "Direct/None";

/// Known referrer hosts and the source each counts as. An entry matches the host and its subdomains
/// (`news.ycombinator.com` matches `m.news.ycombinator.com`); one ending in `.*` matches that name under any
/// country or generic top-level domain (`google.*`: `google.de`, `www.google.co.uk`).
const SOURCES: &[(&str, &str)] = &[
    ("google.*", "Google"),
    ("bing.com", "Bing"),
    ("duckduckgo.com", "DuckDuckGo"),
    ("search.brave.com", "Brave Search"),
    ("ecosia.org", "Ecosia"),
    ("yahoo.*", "Yahoo!"),
    ("yandex.*", "Yandex"),
    ("baidu.com", "Baidu"),
    ("twitter.com", "X"),
    ("x.com", "X"),
    ("t.co", "X"),
    ("facebook.com", "Facebook"),
    ("fb.com", "Facebook"),
    ("fb.me", "Facebook"),
    ("instagram.com", "Instagram"),
    ("threads.net", "Threads"),
    ("linkedin.com", "LinkedIn"),
    ("lnkd.in", "LinkedIn"),
    ("reddit.com", "Reddit"),
    ("youtube.com", "YouTube"),
    ("youtu.be", "YouTube"),
    ("news.ycombinator.com", "Hacker News"),
    ("producthunt.com", "Product Hunt"),
    ("indiehackers.com", "Indie Hackers"),
    ("github.com", "GitHub"),
    ("pinterest.*", "Pinterest"),
    ("tiktok.com", "TikTok"),
    ("bsky.app", "Bluesky"),
    ("t.me", "Telegram"),
    ("medium.com", "Medium"),
    ("substack.com", "Substack"),
    ("chatgpt.com", "ChatGPT"),
    ("chat.openai.com", "ChatGPT"),
    ("perplexity.ai", "Perplexity"),
    ("claude.ai", "Claude"),
];

/// A referrer as the reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The referring host; `None` for a direct visit or one from the website itself.
    pub host: Option<String>,
    /// The normalised source: a name from the table, else the host, else `Direct/None`.
    pub name: String,
}

/// The referrer of a visit to `site`. A referrer without a host, or from one of the website's own hosts, is
/// direct.
pub fn classify(referrer: Option<&Url>, site: &SiteHosts) -> Referrer {
    let host = referrer.and_then(Url::host_str).map(|h| h.trim_end_matches('.').to_ascii_lowercase());
    match host.filter(|h| !h.is_empty() && !site.admits(h)) {
        Some(host) => {
            Referrer { name: source_name(&host).map_or_else(|| host.clone(), str::to_owned), host: Some(host) }
        }
        None => Referrer { host: None, name: DIRECT.to_owned() },
    }
}

/// The table's name for `host`, if it has one.
pub fn source_name(host: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(pattern, _)| matches(host, pattern)).map(|(_, name)| *name)
}

fn matches(host: &str, pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(name) => any_tld(host, name),
        None => host == pattern || host.strip_suffix(pattern).is_some_and(|head| head.ends_with('.')),
    }
}

/// `host` is `name` under a top-level domain, perhaps with a second level (`google.com`, `google.co.uk`),
/// or a subdomain of that (`www.google.com.au`). The suffix after `name` is one or two short labels.
fn any_tld(host: &str, name: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.iter().enumerate().any(|(i, label)| {
        let suffix = &labels[i + 1..];
        *label == name
            && (1..=2).contains(&suffix.len())
            && suffix.iter().all(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(referrer: &str) -> String {
        let site = SiteHosts::new("example.com", "");
        classify(Url::parse(referrer).ok().as_ref(), &site).name
    }

    #[test]
    fn known_sources_are_named() {
        for (referrer, name) in [
            ("https://www.google.com/", "Google"),
            ("https://www.google.co.uk/search?q=x", "Google"),
            ("https://google.de/", "Google"),
            ("https://www.bing.com/", "Bing"),
            ("https://duckduckgo.com/", "DuckDuckGo"),
            ("https://t.co/abc", "X"),
            ("https://x.com/someone", "X"),
            ("https://mobile.twitter.com/", "X"),
            ("https://l.facebook.com/l.php", "Facebook"),
            ("https://m.facebook.com/", "Facebook"),
            ("https://www.linkedin.com/feed", "LinkedIn"),
            ("https://old.reddit.com/r/rust", "Reddit"),
            ("https://www.youtube.com/watch?v=1", "YouTube"),
            ("https://news.ycombinator.com/item?id=1", "Hacker News"),
        ] {
            assert_eq!(name_of(referrer), name, "{referrer}");
        }
    }

    #[test]
    fn other_hosts_are_named_by_their_host() {
        assert_eq!(name_of("https://blog.rust-lang.org/2026/"), "blog.rust-lang.org");
        assert_eq!(name_of("https://googleblog.com/"), "googleblog.com", "a look-alike is just a host");
        assert_eq!(name_of("https://google.example.org/"), "google.example.org");
        assert_eq!(name_of("https://notx.com/"), "notx.com");
    }

    #[test]
    fn no_referrer_or_the_site_itself_is_direct() {
        let site = SiteHosts::new("example.com", "");
        assert_eq!(classify(None, &site), Referrer { host: None, name: DIRECT.into() });
        assert_eq!(name_of("https://example.com/pricing"), DIRECT);
        assert_eq!(name_of("https://app.example.com/"), DIRECT);
        let google = classify(Url::parse("https://www.google.com/").ok().as_ref(), &site);
        assert_eq!(google.host.as_deref(), Some("www.google.com"));
    }
}
