//! What the server tells its operator on the console: which log lines are shown (`RUST_LOG`, else the
//! `log_level` setting), Rocket's own launch banner only when `rocket_banner` is on, and revlink's short start
//! banner. The setup link is printed after it (`service::accounts::print_setup_link`), set apart.

use std::io::IsTerminal;
use std::path::Path;

use rocket::config::LogLevel;
use rocket::figment::Figment;
use tracing_log::{AsLog, LogTracer};
use tracing_subscriber::EnvFilter;

/// The log targets of Rocket's launch banner: its configuration, routes, catchers and fairings, the
/// Shield's headers and the template directory.
const ROCKET_BANNER: [&str; 3] = ["rocket::launch", "rocket::shield", "rocket_dyn_templates"];

/// The default log filter for `log_level` (when `RUST_LOG` is not set). Serving, Rocket's four lines per
/// request stay out below `debug`: on a busy tracking endpoint they would be most of the log (about 4 MB a
/// second at 10,000 events a second). Admin commands keep stdout for their JSON and log only warnings.
pub fn log_filter(level: LogLevel, serving: bool, rocket_banner: bool) -> String {
    let base = match level {
        LogLevel::Off => return "off".to_owned(),
        LogLevel::Critical => "warn",
        _ if !serving => "warn",
        LogLevel::Normal => "info,rocket::server=warn",
        LogLevel::Debug => "debug",
    };
    if rocket_banner {
        return base.to_owned();
    }
    // Errors from those targets (a failed launch) still show.
    ROCKET_BANNER.iter().fold(base.to_owned(), |filter, target| format!("{filter},{target}=error"))
}

/// Sends revlink's and Rocket's log lines to stderr, filtered by `RUST_LOG` or else by the figment's
/// `log_level` and `rocket_banner`. Rocket logs through the `log` crate: its records are bridged to `tracing`,
/// its launch lines as the INFO they mean (Rocket writes them as WARN so that its own logger shows them).
pub fn init_logging(figment: &Figment, serving: bool) {
    let level = figment.extract_inner::<LogLevel>("log_level").unwrap_or(LogLevel::Normal);
    let rocket_banner = figment.extract_inner::<bool>("rocket_banner").unwrap_or(false);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(log_filter(level, serving, rocket_banner)));
    let max = filter.max_level_hint().map_or(log::LevelFilter::Trace, |l| l.as_log());
    // Colours for a terminal only: in a journal or a file the escape codes would be noise.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .finish();
    if tracing::subscriber::set_global_default(subscriber).is_ok()
        && log::set_boxed_logger(Box::new(Relevel(LogTracer::new()))).is_ok()
    {
        log::set_max_level(max);
    }
}

/// The `log` bridge, with Rocket's launch lines at their logical level.
struct Relevel(LogTracer);

impl log::Log for Relevel {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        let launch_line = record.level() == log::Level::Warn && record.target().starts_with("rocket::launch");
        if !launch_line {
            return self.0.log(record);
        }
        let info = log::Record::builder()
            .level(log::Level::Info)
            .target(record.target())
            .args(*record.args())
            .module_path(record.module_path())
            .file(record.file())
            .line(record.line())
            .build();
        self.0.log(&info);
    }

    fn flush(&self) {}
}

/// Writes `text` and a newline to stdout (the terminal or the journal). A stdout that is closed or full (a
/// supervisor that stopped reading) must not stop the server, as `println!`'s panic would: the failure is logged.
pub fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "could not write to the server's output");
    }
}

/// What the start banner says.
pub struct StartBanner<'a> {
    pub version: &'a str,
    pub environment: &'a str,
    /// Where the server listens (`http://127.0.0.1:8000`).
    pub listening: &'a str,
    /// `public_url`, when it differs from where the server listens.
    pub public_url: Option<&'a str>,
    pub data_dir: &'a Path,
    pub stripe_api_base: &'a str,
    /// No account exists yet: the setup link follows the banner.
    pub setup_pending: bool,
}

impl StartBanner<'_> {
    /// A few lines, each a fact the operator may need: what runs, where, with which data and provider.
    pub fn render(&self) -> String {
        let mut lines = vec![format!("revlink {} ({})", self.version, self.environment)];
        lines.push(format!("  listening on    {}", self.listening));
        if let Some(url) = self.public_url {
            lines.push(format!("  public URL      {url}"));
        }
        lines.push(format!("  data directory  {}", self.data_dir.display()));
        lines.push(format!("  Stripe API      {}", self.stripe_api_base));
        let setup = if self.setup_pending {
            "no account yet: open the setup link printed below".to_owned()
        } else {
            "done: sign in at /login".to_owned()
        };
        lines.push(format!("  setup           {setup}"));
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_targets_are_off_unless_asked_for_and_log_level_is_honoured() {
        let normal = log_filter(LogLevel::Normal, true, false);
        assert!(normal.starts_with("info,") && normal.contains("rocket::launch=error"), "{normal}");
        assert!(!log_filter(LogLevel::Normal, true, true).contains("rocket::launch"));
        assert!(log_filter(LogLevel::Critical, true, false).starts_with("warn,"), "critical shows no INFO line");
        assert_eq!(log_filter(LogLevel::Off, true, true), "off");
        assert!(log_filter(LogLevel::Normal, false, false).starts_with("warn,"), "admin commands stay quiet");
    }

    #[test]
    fn the_banner_says_where_everything_is() {
        let banner = StartBanner {
            version: "1.2.3",
            environment: "production",
            listening: "http://127.0.0.1:8000",
            public_url: Some("https://revlink.example.com"),
            data_dir: Path::new("/var/lib/revlink"),
            stripe_api_base: "https://api.stripe.com",
            setup_pending: true,
        }
        .render();
        for fact in [
            "revlink 1.2.3 (production)",
            "http://127.0.0.1:8000",
            "https://revlink.example.com",
            "/var/lib/revlink",
            "https://api.stripe.com",
            "setup link printed below",
        ] {
            assert!(banner.contains(fact), "{fact}: {banner}");
        }
        assert!(banner.lines().count() <= 8, "short: {banner}");
    }
}
