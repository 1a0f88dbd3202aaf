//! `revlink check`: whether the database is sound. SQLite's integrity and foreign-key checks, the revenue
//! rollups against a recount of the payments, and whether the configured master key opens every stored
//! secret; one `Report` with a field per check. `--repair` rebuilds the rollups first.

use rusqlite::Connection;
use serde::{Serialize, Serializer};

use crate::crypto::StripeKeyBox;
use crate::db::check::{self as checks, ForeignKeyViolation};
use crate::db::{Db, rollups, stripe};
use crate::domain::ObjectId;
use crate::error::Error;

/// What the checks found (printed as JSON). To add a check (revenue rollups, say): a field here, the step
/// in `inspect` that fills it, and its line in `problems`. A check that cannot run says why in `errors`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// No problem anywhere (`problems()` is empty).
    pub ok: bool,
    /// `PRAGMA integrity_check`: "ok", or SQLite's findings.
    #[serde(serialize_with = "ok_or_findings")]
    pub integrity: Vec<String>,
    /// `PRAGMA foreign_key_check`: rows referring to a parent row that is not there.
    pub foreign_keys: Vec<ForeignKeyViolation>,
    pub secrets: Secrets,
    /// Websites whose revenue rollups differ from a recount of their payments (`--repair` rebuilds them).
    pub rollups: Vec<ObjectId>,
    /// Checks that could not run, each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The sealed secrets (Stripe keys, webhook signing secrets), and the websites with one the configured master key
/// cannot open.
#[derive(Debug, Default, Serialize)]
pub struct Secrets {
    pub checked: usize,
    pub unreadable: Vec<ObjectId>,
}

fn ok_or_findings<S: Serializer>(findings: &[String], s: S) -> Result<S::Ok, S::Error> {
    if checks::is_sound(findings) { s.serialize_str("ok") } else { findings.serialize(s) }
}

impl Report {
    /// One line per kind of problem found; empty when all is well.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !checks::is_sound(&self.integrity) {
            let first = self.integrity.first().map_or("", String::as_str);
            out.push(format!("integrity: {} finding(s), the first: {first}", self.integrity.len()));
        }
        if let Some(first) = self.foreign_keys.first() {
            out.push(format!(
                "foreign keys: {} row(s) refer to a missing parent, the first: {} {} ({} → {})",
                self.foreign_keys.len(),
                first.table,
                first.rowid.map_or_else(|| "row".to_owned(), |r| format!("rowid {r}")),
                first.column,
                first.parent
            ));
        }
        if !self.secrets.unreadable.is_empty() {
            let sites: Vec<&str> = self.secrets.unreadable.iter().map(ObjectId::as_str).collect();
            out.push(format!(
                "secrets: the configured master key cannot open the Stripe key or webhook signing secret of website(s) {}",
                sites.join(", ")
            ));
        }
        if !self.rollups.is_empty() {
            let sites: Vec<&str> = self.rollups.iter().map(ObjectId::as_str).collect();
            out.push(format!(
                "rollups: the revenue rollups of website(s) {} differ from their payments; run revlink check --repair",
                sites.join(", ")
            ));
        }
        out.extend(self.errors.iter().cloned());
        out
    }
}

/// Rebuilds every revenue rollup from the payments, in one transaction.
pub async fn repair_rollups(db: &Db) -> Result<(), Error> {
    db.run(rollups::rebuild_rollups).await
}

/// Runs every check on a database thread. `keys` is the configured master key, or why it could not be
/// loaded (then every stored secret counts as unreadable).
pub async fn run(db: &Db, keys: Result<StripeKeyBox, String>) -> Result<Report, Error> {
    db.run(move |c| Ok(inspect(c, keys.as_ref()))).await
}

fn inspect(conn: &Connection, keys: Result<&StripeKeyBox, &String>) -> Report {
    let mut errors = Vec::new();
    let integrity = checks::integrity(conn);
    let foreign_keys = checks::foreign_keys(conn).unwrap_or_else(|e| {
        errors.push(format!("foreign keys: the check could not run: {e}"));
        Vec::new()
    });
    if let Err(why) = keys {
        errors.push(format!("secrets: {why}"));
    }
    let secrets = match stripe::unreadable_secrets(conn, keys.ok()) {
        Ok((checked, unreadable)) => Secrets { checked, unreadable },
        Err(e) => {
            errors.push(format!("secrets: the check could not run: {e}"));
            Secrets::default()
        }
    };
    let rollups = rollups::rollup_mismatches(conn).unwrap_or_else(|e| {
        errors.push(format!("rollups: the check could not run: {e}"));
        Vec::new()
    });
    let mut report = Report { ok: false, integrity, foreign_keys, secrets, rollups, errors };
    report.ok = report.problems().is_empty();
    report
}
