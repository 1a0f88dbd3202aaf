//! The admin commands on the same binary. They read the same configuration as the server; each
//! prints one JSON object on stdout (exit 0) or a message on stderr (exit non-zero).

use std::fs;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use rocket::figment::Figment;
use serde_json::{Value, json};

use crate::db::audit::Actor;
use crate::db::{credentials, stripe, team, users, websites};
use crate::domain::website::{parse_domain, parse_name, parse_timezone};
use crate::domain::{ObjectId, Role};
use crate::{Runtime, api, config, crypto};

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

/// Runs an admin command; the error is the message for stderr.
pub fn run(command: Command, figment: &Figment) -> Result<Value, String> {
    let runtime = Runtime::open(figment).map_err(|e| e.to_string())?;
    let db = &runtime.db;
    let actor = Actor::cli();
    let text = |e: crate::error::Error| e.to_string();
    match command {
        Command::Serve => Err("serve is not an admin command".into()),
        Command::User(UserCommand::Create { email, name, password_file }) => {
            let email = users::parse_email(&email).map_err(text)?;
            let name = parse_name(name.as_deref(), "--name")?;
            let hash = password_file.as_deref().map(read_password).transpose()?;
            let id = db.with_conn(|c| users::create(c, &email, name.as_deref(), hash.as_deref())).map_err(text)?;
            Ok(json!({ "userId": id }))
        }
        Command::Website(WebsiteCommand::Create { owner, domain, timezone, name }) => {
            let new = websites::NewWebsite {
                domain: parse_domain(&domain)?,
                timezone: parse_timezone(&timezone)?,
                name: parse_name(name.as_deref(), "--name")?,
            };
            let created = db
                .with_conn(|c| {
                    let owner = users::require_by_email(c, &users::parse_email(&owner)?)?;
                    websites::create(c, &owner.id, &new, &actor)
                })
                .map_err(text)?;
            Ok(json!({ "websiteId": created.website_id, "trackingId": created.tracking_id }))
        }
        Command::Member(MemberCommand::Add { website, email, role }) => {
            let website = parse_id(&website, "--website")?;
            let role: Role = role.parse()?;
            let user = db
                .with_conn(|c| {
                    if !websites::exists(c, &website)? {
                        return Err(crate::error::Error::NotFound(format!("No website with id {website}")));
                    }
                    let user = users::require_by_email(c, &users::parse_email(&email)?)?;
                    team::add_member(c, &website, &user.id, role, &actor)?;
                    Ok(user)
                })
                .map_err(text)?;
            Ok(json!({ "websiteId": website, "userId": user.id, "email": user.email, "role": role }))
        }
        Command::Token(TokenCommand::Create { email, name, permissions, websites }) => {
            let name = parse_name(name.as_deref(), "--name")?;
            let (permissions, website_ids) =
                api::access_tokens::parse_scope(permissions.as_deref(), websites.as_deref()).map_err(text)?;
            let token = db
                .with_conn(|c| {
                    let user = users::require_by_email(c, &users::parse_email(&email)?)?;
                    credentials::create_access_token(c, &user.id, name.as_deref(), &permissions, &website_ids, &actor)
                })
                .map_err(text)?;
            serde_json::to_value(token).map_err(|e| e.to_string())
        }
        Command::Apikey(ApikeyCommand::Create { website, name }) => {
            let website = parse_id(&website, "--website")?;
            let name = parse_name(name.as_deref(), "--name")?;
            let key = db
                .with_conn(|c| {
                    if !websites::exists(c, &website)? {
                        return Err(crate::error::Error::NotFound(format!("No website with id {website}")));
                    }
                    credentials::create_website_key(c, &website, name.as_deref(), &actor)
                })
                .map_err(text)?;
            serde_json::to_value(key).map_err(|e| e.to_string())
        }
        Command::RotateMasterKey { new_key_file } => rotate_master_key(&runtime, &new_key_file),
    }
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
fn rotate_master_key(runtime: &Runtime, new_key_file: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(new_key_file).map_err(|e| format!("cannot read {}: {e}", new_key_file.display()))?;
    let new_key = crypto::MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", new_key_file.display()))?;
    let config = &runtime.config;
    let inline = config.master_key.is_some();
    let key_path = config.master_key_path();
    let staged = key_path.with_extension("key.new");
    if !inline {
        let _ = fs::remove_file(&staged);
        config::write_new_secret_file(&staged, text.trim()).map_err(|e| e.to_string())?;
    }
    let (count, version) = runtime
        .db
        .with_conn(|c| stripe::rotate_master_key(c, &runtime.master_key, &new_key))
        .map_err(|e| e.to_string())?;
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
