//! The admin commands on the same binary. They read the same configuration as the server; each
//! prints one JSON object on stdout (exit 0) or a message on stderr (exit non-zero). `check` prints its
//! report either way, and exits non-zero when it found a problem.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use rocket::figment::Figment;
use serde_json::{Value, json};

use crate::crypto::StripeKeyBox;
use crate::domain::credentials::parse_scope;
use crate::domain::website::{NewWebsite, parse_domain, parse_name, parse_timezone};
use crate::domain::{Actor, ObjectId, Role, WebsiteId};
use crate::service::backup::{BackupError, Existing};
use crate::service::tokens::{Creator, NewToken};
use crate::service::{self, App};
use crate::{Runtime, Storage, config, crypto};

#[derive(Debug, Parser)]
#[command(name = "revlink", version, about = "Self-hosted Stripe revenue for web analytics (DataFast-compatible API)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage websites.
    #[command(subcommand)]
    Website(WebsiteCommand),
    /// Manage website members.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage dft_ account tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage df_ website keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Re-encrypt every stored secret under a new master key, in one transaction.
    RotateMasterKey {
        /// A file holding the new key: 64 hex characters (generate one with `openssl rand -hex 32`).
        #[arg(long)]
        new_key_file: PathBuf,
    },
    /// Write a consistent copy of the database to FILE while the server runs (SQLite's online backup).
    Backup {
        /// Where the copy goes: written beside it under a temporary name, checked, then renamed into place.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check the database (SQLite's integrity and foreign keys, revenue rollups against a recount) and that the
    /// master key opens every stored secret.
    Check {
        /// Rebuild the revenue rollups from the payments first (in one transaction).
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// A file whose first line is the password (for the settings pages' login).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebsiteCommand {
    Create {
        /// The owner's email; the user must exist.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        domain: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    Add {
        #[arg(long)]
        website: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["viewer", "member"])]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated permissions; default `*`.
        #[arg(long, value_delimiter = ',')]
        permissions: Option<Vec<String>>,
        /// Comma-separated website ids; default: all the user's websites.
        #[arg(long, value_delimiter = ',')]
        websites: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    Create {
        #[arg(long)]
        website: String,
        #[arg(long)]
        name: Option<String>,
    },
}

/// Why a command failed: the message for stderr, and the report `check` prints on stdout all the same.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub report: Option<Value>,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self { message, report: None }
    }
}

/// Runs an admin command: the JSON for stdout, or why it failed.
pub async fn run(command: Command, figment: &Figment) -> Result<Value, Failure> {
    match command {
        Command::Backup { to, force } => Ok(backup(figment, to, force).await?),
        Command::Check { repair } => check(figment, repair).await,
        other => Ok(manage(other, figment).await?),
    }
}

/// The commands that work on an open runtime (the master key verified).
async fn manage(command: Command, figment: &Figment) -> Result<Value, String> {
    let runtime = Runtime::open(figment).map_err(|e| e.to_string())?;
    let base_url = runtime.config.base_url(figment);
    let app = runtime.into_app(base_url).map_err(|e| e.to_string())?;
    let text = |e: crate::error::Error| e.to_string();
    match command {
        Command::Serve => Err("serve is not an admin command".into()),
        // `run` answers these before any runtime is opened.
        Command::Backup { .. } | Command::Check { .. } => Err("backup and check do not open the runtime".into()),
        Command::User(UserCommand::Create { email, name, password_file }) => {
            let name = parse_name(name.as_deref(), "--name")?;
            let hash = password_file.as_deref().map(read_password).transpose()?;
            let id = service::accounts::create_user(&app, &email, name, hash).await.map_err(text)?;
            Ok(json!({ "userId": id }))
        }
        Command::Website(WebsiteCommand::Create { owner, domain, timezone, name }) => {
            let new = NewWebsite {
                domain: parse_domain(&domain)?,
                timezone: parse_timezone(&timezone)?,
                name: parse_name(name.as_deref(), "--name")?,
            };
            let owner = service::accounts::user_by_email(&app, &owner).await.map_err(text)?;
            let created = service::websites::create(&app, owner.id, new, Actor::cli()).await.map_err(text)?;
            Ok(json!({ "websiteId": created.website_id, "trackingId": created.tracking_id }))
        }
        Command::Member(MemberCommand::Add { website, email, role }) => {
            let website = parse_id(&website, "--website")?;
            let role: Role = role.parse()?;
            let user =
                service::team::add_member(&app, website.clone(), &email, role, Actor::cli()).await.map_err(text)?;
            Ok(json!({ "websiteId": website, "userId": user.id, "email": user.email, "role": role }))
        }
        Command::Token(TokenCommand::Create { email, name, permissions, websites }) => {
            let name = parse_name(name.as_deref(), "--name")?;
            let (permissions, websites) = parse_scope(permissions.as_deref(), websites.as_deref())?;
            let user = service::accounts::user_by_email(&app, &email).await.map_err(text)?;
            let creator = Creator::whole_account(user.id, Actor::cli());
            let token =
                service::tokens::create(&app, creator, NewToken { name, permissions, websites }).await.map_err(text)?;
            serde_json::to_value(token).map_err(|e| e.to_string())
        }
        Command::Apikey(ApikeyCommand::Create { website, name }) => {
            let website = WebsiteId::from(parse_id(&website, "--website")?);
            let name = parse_name(name.as_deref(), "--name")?;
            let key = service::api_keys::create(&app, &website, name, Actor::cli()).await.map_err(text)?;
            serde_json::to_value(key).map_err(|e| e.to_string())
        }
        Command::RotateMasterKey { new_key_file } => rotate_master_key(&app, &new_key_file).await,
    }
}

/// The configured database, which must exist already (a backup or a check of a new empty one would mislead).
fn existing_storage(figment: &Figment) -> Result<Storage, String> {
    let path = config::AppConfig::from_figment(figment).map_err(|e| e.to_string())?.database_path();
    if !path.is_file() {
        return Err(format!("there is no database at {} (check data_dir)", path.display()));
    }
    Storage::open(figment).map_err(|e| e.to_string())
}

async fn backup(figment: &Figment, to: PathBuf, force: bool) -> Result<Value, String> {
    let storage = existing_storage(figment)?;
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C ends the copy at its next step, and the staged file is removed.
    let interrupt = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    let existing = if force { Existing::Replace } else { Existing::Refuse };
    let copied = service::backup::to_file(&storage.db, to, existing, stop).await;
    interrupt.abort();
    let copied = copied.map_err(|e| match e {
        BackupError::Exists(path) => format!("{} already exists; --force replaces it", path.display()),
        other => other.to_string(),
    })?;
    Ok(json!({ "backup": copied.path, "bytes": copied.bytes, "pages": copied.pages, "integrity": "ok" }))
}

/// Runs every check and prints the report; fails (report included) when it found a problem.
async fn check(figment: &Figment, repair: bool) -> Result<Value, Failure> {
    let storage = existing_storage(figment)?;
    if repair {
        service::check::repair_rollups(&storage.db).await.map_err(|e| e.to_string())?;
    }
    let keys = storage.load_master_key().map(|(keys, _)| keys).map_err(|e| e.to_string());
    let report = service::check::run(&storage.db, keys).await.map_err(|e| e.to_string())?;
    let json = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    let problems = report.problems();
    if problems.is_empty() {
        return Ok(json);
    }
    Err(Failure { message: format!("the check found problems: {}", problems.join("; ")), report: Some(json) })
}

fn parse_id(raw: &str, flag: &str) -> Result<ObjectId, String> {
    ObjectId::parse(raw).ok_or_else(|| format!("{flag} must be a 24-character lowercase hex id, got {raw:?}"))
}

fn read_password(path: &Path) -> Result<String, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let password = text.lines().next().unwrap_or_default();
    crypto::hash_password(password)
}

/// Re-encrypts, then installs the new key where the old one was read from. The new key is staged
/// beside the key file first, so an interrupted rotation leaves both keys on disk, never neither.
async fn rotate_master_key(app: &App, new_key_file: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(new_key_file).map_err(|e| format!("cannot read {}: {e}", new_key_file.display()))?;
    let new_key = crypto::MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", new_key_file.display()))?;
    let config = &app.config;
    let inline = config.master_key.is_some();
    let key_path = config.master_key_path();
    let staged = key_path.with_extension("key.new");
    if !inline {
        let _ = fs::remove_file(&staged);
        config::write_new_secret_file(&staged, text.trim()).map_err(|e| e.to_string())?;
    }
    let (count, version) =
        service::stripe::reseal_all(app, StripeKeyBox::new(new_key)).await.map_err(|e| e.to_string())?;
    if inline {
        eprintln!(
            "The secrets are now encrypted with the new key: set master_key (ROCKET_MASTER_KEY) to it before the next start."
        );
    } else {
        fs::rename(&staged, &key_path).map_err(|e| {
            format!(
                "the secrets were re-encrypted, but {} could not replace {}: {e}; move it there by hand",
                staged.display(),
                key_path.display()
            )
        })?;
    }
    Ok(
        json!({ "reencrypted": count, "keyVersion": version, "masterKeyFile": (!inline).then(|| key_path.display().to_string()) }),
    )
}
