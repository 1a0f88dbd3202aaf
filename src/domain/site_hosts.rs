//! Which host names count as a website (contract §2): its domain, the domain's subdomains, and its allowed
//! hostnames with theirs. A look-alike (`evilexample.com`, `example.com.evil.io`) is none of them.

/// The hosts a website's events may come from, and its CORS preflights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteHosts {
    /// Each admits itself and its subdomains.
    roots: Vec<String>,
}

impl SiteHosts {
    /// From the website's domain and its comma-separated allowed hostnames. A leading `www.` of the domain
    /// is dropped, so that `www.example.com` admits `example.com` as the script's `data-domain` would.
    pub fn new(domain: &str, allowed_hostnames: &str) -> Self {
        let domain = normalise(domain);
        let root = domain.strip_prefix("www.").filter(|rest| rest.contains('.')).map_or(domain.clone(), str::to_owned);
        let mut roots = vec![root];
        roots.extend(parse_allowed_hostnames(allowed_hostnames));
        Self { roots }
    }

    /// Whether `host` is one of the roots or a subdomain of one (compared without case or a trailing dot).
    pub fn admits(&self, host: &str) -> bool {
        let host = normalise(host);
        !host.is_empty() && self.roots.iter().any(|root| is_same_or_subdomain(&host, root))
    }
}

/// `host` equals `root` or ends with `.root`: a label boundary, so `evilexample.com` is not `example.com`'s.
fn is_same_or_subdomain(host: &str, root: &str) -> bool {
    host == root || host.strip_suffix(root).is_some_and(|head| head.ends_with('.') && head.len() > 1)
}

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The comma-separated list as stored: trimmed, lower-cased, blanks dropped.
pub fn parse_allowed_hostnames(raw: &str) -> Vec<String> {
    raw.split(',').map(normalise).filter(|h| !h.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_and_its_subdomains_are_admitted() {
        let site = SiteHosts::new("example.com", "");
        for host in ["example.com", "www.example.com", "blog.shop.example.com", "EXAMPLE.com.", " example.com"] {
            assert!(site.admits(host), "{host}");
        }
    }

    #[test]
    fn look_alikes_are_refused() {
        let site = SiteHosts::new("example.com", "");
        for host in ["evilexample.com", "example.com.evil.io", "example.co", "com", "", ".example.com", "xample.com"] {
            assert!(!site.admits(host), "{host}");
        }
    }

    #[test]
    fn allowed_hostnames_count_with_their_subdomains() {
        let site = SiteHosts::new("example.com", " partner.io, ,Shop.Example.NET ");
        assert!(site.admits("partner.io") && site.admits("app.partner.io") && site.admits("shop.example.net"));
        assert!(!site.admits("example.net") && !site.admits("notpartner.io"));
        assert_eq!(parse_allowed_hostnames(" a.io,, B.io "), vec!["a.io", "b.io"]);
    }

    #[test]
    fn a_www_domain_admits_its_bare_name() {
        let site = SiteHosts::new("www.example.com", "");
        assert!(site.admits("example.com") && site.admits("www.example.com") && site.admits("app.example.com"));
        assert!(SiteHosts::new("www.com", "").admits("www.com"), "www. alone is not stripped to a TLD");
    }
}
