//! The Prometheus series revlink exposes at `/metrics`: one registry per built app (no process-global
//! recorder, so one process may build many apps), what the request fairing and the import worker record
//! into it, and the Prometheus text (version 0.0.4) a scrape answers with. No I/O and no HTTP here: the
//! values read at scrape time (file sizes, import ages, memory) come in as a `Scrape`.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of a scrape's answer.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The route label of a request no route matched: one label however many paths are probed.
pub const UNMATCHED: &str = "unmatched";

/// Upper bounds of the request latency buckets, in seconds (an implicit `+Inf` follows).
const LATENCY_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How an import ended when it did not complete (see `db::import::Outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportError {
    /// Stripe refused the key (401/403): no automatic retry until someone acts.
    Refused,
    /// Stripe or the database kept failing: the next sync tries again.
    Failed,
}

impl ImportError {
    fn label(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The matched route's URI template (`/api/v1/admin/websites/<website_id>`), never the request's path.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListLabel {
    list: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebsiteLabel {
    website_id: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The series recorded as things happen. Cheap to share (`Arc`); every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    pages: Family<ListLabel, Counter>,
    import_errors: Family<KindLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("revlink");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let pages = Family::<ListLabel, Counter>::default();
        let import_errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route template (`unmatched` when none) and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer (before the body is sent), by method and route template",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register(
            "import_pages_committed",
            "Pages of a Stripe list the import wrote (each with its cursor, in one transaction), by list",
            pages.clone(),
        );
        registry.register(
            "import_errors",
            "Imports that ended in error: `refused` (Stripe refused the key) or `failed` (retried at the next sync)",
            import_errors.clone(),
        );
        // Both kinds exist from the start, so that `increase()` sees the first error.
        for kind in [ImportError::Refused, ImportError::Failed] {
            import_errors.get_or_create_owned(&KindLabel { kind: kind.label() });
        }
        Self { registry, requests, latency, pages, import_errors }
    }

    /// One answered request. `route` is the matched route's URI template, or `UNMATCHED`.
    pub fn request(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let route = route.to_owned();
        self.latency.get_or_create(&RouteLabels { method, route: route.clone() }).observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// One page of `list` written by the import.
    pub fn page_committed(&self, list: &'static str) {
        self.pages.get_or_create(&ListLabel { list }).inc();
    }

    /// One import that ended in error.
    pub fn import_error(&self, kind: ImportError) {
        self.import_errors.get_or_create(&KindLabel { kind: kind.label() }).inc();
    }

    /// The scrape's answer: the recorded series, then the values read for this scrape.
    pub fn render(&self, scrape: &Scrape) -> String {
        let mut now = Registry::default();
        if let Some(bytes) = scrape.resident_memory_bytes {
            let gauge = Gauge::<u64, std::sync::atomic::AtomicU64>::default();
            gauge.set(bytes);
            now.register_with_unit("process_resident_memory", "Resident memory of this process", Unit::Bytes, gauge);
        }
        let ours = now.sub_registry_with_prefix("revlink");
        for (name, help, bytes) in [
            ("database_size", "Size of the SQLite database file (revlink.sqlite3)", scrape.database_bytes),
            ("database_wal_size", "Size of its write-ahead log (revlink.sqlite3-wal); 0 when absent", scrape.wal_bytes),
        ] {
            let gauge = Gauge::<u64, std::sync::atomic::AtomicU64>::default();
            gauge.set(bytes);
            ours.register_with_unit(name, help, Unit::Bytes, gauge);
        }
        let queued = Gauge::<u64, std::sync::atomic::AtomicU64>::default();
        queued.set(scrape.writer_queued);
        ours.register("writer_queue_depth", "Writes waiting for the database writer's next transaction", queued);
        for (name, help, total) in [
            ("writer_batches", "Transactions the database writer has run (group commit)", scrape.writer_batches),
            ("writer_jobs", "Writes answered from them; over writer_batches, the mean batch size", scrape.writer_jobs),
        ] {
            let counter = Counter::<u64, std::sync::atomic::AtomicU64>::default();
            counter.inc_by(total);
            ours.register(name, help, counter);
        }
        let ages = Family::<WebsiteLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        for (website_id, seconds) in &scrape.since_last_import {
            ages.get_or_create(&WebsiteLabel { website_id: website_id.clone() }).set(*seconds);
        }
        ours.register(
            "import_seconds_since_last_success",
            "Seconds since the connected website's last complete Stripe sync (since it was connected, while none has completed)",
            ages,
        );
        let mut text = String::new();
        // Writing to a String cannot fail; the encoder's own errors would be a bug in a label.
        if let Err(e) =
            prometheus_text::encode(&mut text, &self.registry).and_then(|()| prometheus_text::encode(&mut text, &now))
        {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        text
    }
}

/// What a scrape reads when it happens.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub database_bytes: u64,
    pub wal_bytes: u64,
    /// Per connected website: seconds since its last complete sync (or since it was connected).
    pub since_last_import: Vec<(String, f64)>,
    /// The process's resident set, where the platform tells it cheaply (Linux).
    pub resident_memory_bytes: Option<u64>,
    /// Writes waiting for the database writer's next transaction.
    pub writer_queued: u64,
    /// Transactions the writer has committed (or tried to), and the writes answered from them.
    pub writer_batches: u64,
    pub writer_jobs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
        text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next())
    }

    #[test]
    fn renders_requests_by_template_and_scrape_values() {
        let m = Metrics::new();
        m.request("GET", "/api/v1/admin/websites/<website_id>", 200, Duration::from_millis(3));
        m.request("GET", "/api/v1/admin/websites/<website_id>", 200, Duration::from_millis(30));
        m.page_committed("charges");
        m.import_error(ImportError::Refused);
        let text = m.render(&Scrape {
            database_bytes: 4096,
            wal_bytes: 0,
            since_last_import: vec![("665f0b3c4d2e1a0012345678".into(), 12.5)],
            resident_memory_bytes: Some(1 << 20),
            writer_queued: 2,
            writer_batches: 4,
            writer_jobs: 10,
        });
        assert_eq!(sample(&text, "revlink_writer_queue_depth "), Some("2"), "{text}");
        assert_eq!(sample(&text, "revlink_writer_batches_total "), Some("4"));
        assert_eq!(sample(&text, "revlink_writer_jobs_total "), Some("10"));
        let route = r#"method="GET",route="/api/v1/admin/websites/<website_id>""#;
        assert_eq!(
            sample(&text, &format!("revlink_http_requests_total{{{route},status=\"200\"}}")),
            Some("2"),
            "{text}"
        );
        assert_eq!(sample(&text, &format!("revlink_http_request_duration_seconds_count{{{route}}}")), Some("2"));
        assert!(
            text.contains(&format!("revlink_http_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 1")),
            "{text}"
        );
        assert_eq!(sample(&text, r#"revlink_import_pages_committed_total{list="charges"}"#), Some("1"));
        assert_eq!(sample(&text, r#"revlink_import_errors_total{kind="refused"}"#), Some("1"));
        assert_eq!(sample(&text, r#"revlink_import_errors_total{kind="failed"}"#), Some("0"));
        assert_eq!(sample(&text, "revlink_database_size_bytes "), Some("4096"));
        assert_eq!(sample(&text, "revlink_database_wal_size_bytes "), Some("0"));
        assert_eq!(sample(&text, "process_resident_memory_bytes "), Some("1048576"));
        let age = r#"revlink_import_seconds_since_last_success{website_id="665f0b3c4d2e1a0012345678"}"#;
        assert_eq!(sample(&text, age), Some("12.5"));
    }

    #[test]
    fn apps_in_one_process_keep_their_own_series() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.page_committed("charges");
        let text = b.render(&Scrape::default());
        assert_eq!(sample(&text, r#"revlink_import_pages_committed_total{list="charges"}"#), None, "{text}");
    }
}
