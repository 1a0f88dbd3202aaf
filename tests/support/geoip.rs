//! A tiny MaxMind DB (GeoLite2-City layout) written for a test by the `maxminddb-writer` crate, so no test
//! needs MaxMind's files or the internet. An IPv6 tree like GeoLite2's, IPv4 networks under `::/96`:
//!  * 203.0.113.0/24 (TEST-NET-3): DE, region Berlin, city Berlin;
//!  * 2001:db8::/32 (documentation): FR, no region or city (as in a Country edition);
//!  * anything else: not in the database.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use maxminddb_writer::Database;
use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use serde_json::json;

/// Writes the test database to `path`.
pub fn write_city_database(path: &Path) {
    let mut db = Database::default();
    db.metadata.ip_version = IpVersion::V6;
    db.metadata.binary_format_major_version = 2;
    db.metadata.database_type = "GeoLite2-City".into();
    db.metadata.languages = vec!["en".into()];
    let berlin = db
        .insert_value(json!({
            "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            "subdivisions": [{"iso_code": "BE", "names": {"en": "Berlin", "de": "Berlin"}}],
            "city": {"names": {"en": "Berlin"}},
        }))
        .unwrap();
    let france = db.insert_value(json!({"country": {"iso_code": "FR", "names": {"en": "France"}}})).unwrap();
    let v4_in_v6 = Ipv4Addr::new(203, 0, 113, 0).to_ipv6_compatible();
    db.insert_node(IpAddrWithMask::new(IpAddr::V6(v4_in_v6), 96 + 24), berlin);
    db.insert_node("2001:db8::/32".parse::<IpAddrWithMask>().unwrap(), france);
    std::fs::write(path, db.write_to(Vec::new()).unwrap()).unwrap();
}
