//! The MaxMind-format location database (`geoip_database`: GeoLite2-City / GeoIP2-City, or a Country
//! edition): read once at start-up into memory and shared; a lookup turns a client address into country,
//! region and city. The address is only looked up: never kept, never logged.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{Reader, geoip2};

/// Where an address is, as far as the database knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// The largest subdivision's English name (a state, a region: `California`, `Bavaria`).
    pub region: Option<String>,
    /// The city's English name.
    pub city: Option<String>,
}

/// A database that could not be opened, with the path it was read from.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the GeoIP database {path} (geoip_database): {reason}")]
pub struct GeoIpError {
    pub path: PathBuf,
    pub reason: String,
}

/// An opened MaxMind DB file.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp").field("database_type", &self.reader.metadata().database_type).finish_non_exhaustive()
    }
}

impl GeoIp {
    /// Reads the whole file into memory and checks its metadata; a missing or malformed file is an error that
    /// names it.
    pub fn open(path: &Path) -> Result<Self, GeoIpError> {
        let reader =
            Reader::open_readfile(path).map_err(|e| GeoIpError { path: path.to_owned(), reason: e.to_string() })?;
        Ok(Self { reader })
    }

    /// The database's type as its metadata names it (`GeoLite2-City`).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Where `address` is; unknown parts (or an address the database does not cover) are `None`.
    pub fn locate(&self, address: IpAddr) -> Location {
        let address = address.to_canonical();
        let record = self.reader.lookup(address).and_then(|found| found.decode::<geoip2::City<'_>>());
        let Ok(Some(record)) = record else { return Location::default() };
        let name = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(128).collect());
        Location {
            country: record.country.iso_code.map(str::to_owned),
            region: record.subdivisions.first().and_then(|s| name(s.names.english)),
            city: name(record.city.names.english),
        }
    }
}
