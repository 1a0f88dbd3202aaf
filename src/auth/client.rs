//! The client's address, for the per-address limits: the TCP peer, unless the peer is one of the
//! configured `trusted_proxies`, whose `X-DataFast-Real-IP` or `X-Real-IP` (else `X-Forwarded-For`) then
//! names the client. Without trusted proxies no header is believed: a client cannot pick a new address per
//! request. The same goes for any other header a proxy adds (`trusted_header`: the visitor's country).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use rocket::request::{FromRequest, Outcome, Request};

/// The proxies whose client-address headers are believed.
#[derive(Debug, Default, Clone)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses (`127.0.0.1`) or networks (`10.0.0.0/8`); a malformed entry is named in the error.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let parse = |raw: &String| {
            let raw = raw.trim();
            raw.parse::<IpNet>()
                .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: {raw:?} is not an IP address or network (CIDR)"))
        };
        entries.iter().map(parse).collect::<Result<_, _>>().map(Self)
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&peer))
    }

    /// The client behind `peer`, given the request's `X-Real-IP` and `X-Forwarded-For`.
    pub fn client(&self, peer: IpAddr, real_ip: Option<&str>, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        if let Some(ip) = real_ip.and_then(|v| v.trim().parse().ok()) {
            return ip;
        }
        // The rightmost address that is not itself a trusted proxy is the one a trusted proxy saw.
        let hops = forwarded_for.unwrap_or_default().split(',').rev().filter_map(|v| v.trim().parse::<IpAddr>().ok());
        hops.into_iter().find(|ip| !self.trusts(*ip)).unwrap_or(peer)
    }
}

/// The client's address as the limits count it (unspecified when the connection has none, as in tests).
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    pub fn of(req: &Request<'_>) -> IpAddr {
        let peer = peer(req);
        match req.rocket().state::<TrustedProxies>() {
            Some(trusted) => {
                let headers = req.headers();
                let real_ip = headers.get_one("X-DataFast-Real-IP").or_else(|| headers.get_one("X-Real-IP"));
                trusted.client(peer, real_ip, headers.get_one("X-Forwarded-For"))
            }
            None => peer,
        }
    }
}

/// The TCP peer (unspecified when the connection has none, as in tests).
fn peer(req: &Request<'_>) -> IpAddr {
    req.remote().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |s| s.ip())
}

/// The header `name`, when the peer is a trusted proxy (which sets it); from anyone else it is not believed.
pub fn trusted_header<'r>(req: &'r Request<'_>, name: &str) -> Option<&'r str> {
    let trusted = req.rocket().state::<TrustedProxies>()?;
    if trusted.trusts(peer(req)) { req.headers().get_one(name) } else { None }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Self(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.9"), Some("1.2.3.4"), Some("5.6.7.8")), ip("203.0.113.9"));
        let local = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(local.client(ip("127.0.0.1"), Some("1.2.3.4"), None), ip("1.2.3.4"));
        assert_eq!(local.client(ip("10.1.2.3"), None, Some("9.9.9.9, 1.2.3.4, 10.0.0.7")), ip("1.2.3.4"));
        assert_eq!(local.client(ip("198.51.100.1"), Some("1.2.3.4"), None), ip("198.51.100.1"), "not a proxy");
        assert_eq!(local.client(ip("127.0.0.1"), Some("not an ip"), None), ip("127.0.0.1"));
        assert!(TrustedProxies::parse(&["localhost".into()]).unwrap_err().contains("localhost"));
    }
}
