//! The data directory and the secret files in it: created readable by their owner only, tightened (with a
//! warning) when found looser, and the keys generated on first run.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rocket::figment::Figment;
use secrecy::ExposeSecret;

use super::{AppConfig, ConfigError};
use crate::crypto::MasterKey;

impl AppConfig {
    /// Creates the data directory readable by its owner only (0700). One that exists and holds nothing but
    /// revlink's own files (and dotfiles, such as the repository's `data/.gitignore`) is tightened to 0700; any
    /// other directory is left as it is (it may be someone's working directory), with a warning when others can
    /// read it.
    pub fn ensure_data_dir(&self) -> Result<(), ConfigError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let dir = &self.data_dir;
        let io_err = |source| ConfigError::Io { what: "cannot create the data directory", path: dir.clone(), source };
        if !dir.exists() {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err)?;
        }
        let mode = fs::metadata(dir).map_err(io_err)?.permissions().mode() & 0o777;
        let others_may_read = mode & 0o077 != 0;
        if !others_may_read {
            return Ok(());
        }
        if only_revlink_files(dir).map_err(io_err)? {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err)?;
            tracing::info!(path = %dir.display(), was = format!("{mode:o}"), "made the data directory private (0700)");
        } else {
            tracing::warn!(
                path = %dir.display(),
                mode = format!("{mode:o}"),
                "the data directory can be read by other users; chmod 700 it (its files are kept 0600)"
            );
        }
        Ok(())
    }

    /// The configured master key; when none is configured and no secret is stored yet, a new one
    /// is written to the key file (its path is answered too: a start that fails removes it). With secrets
    /// stored, a missing key is an error, never a new key.
    pub fn load_master_key(&self, secrets_exist: bool) -> Result<(MasterKey, Option<PathBuf>), ConfigError> {
        let malformed =
            |source: &str| ConfigError::Invalid(format!("the master key in {source} is not 64 hexadecimal characters"));
        if let Some(inline) = &self.master_key {
            return MasterKey::from_hex(inline.expose_secret()).map(|k| (k, None)).map_err(|_| malformed("master_key"));
        }
        let path = self.master_key_path();
        if path.exists() {
            let text = read_secret_file(&path, "cannot read the master key file")?;
            return MasterKey::from_hex(&text).map(|k| (k, None)).map_err(|_| malformed(&path.display().to_string()));
        }
        if secrets_exist {
            return Err(ConfigError::Invalid(format!(
                "the master key file {} is missing, but the database holds encrypted Stripe keys. \
                 Restore the key file (or set master_key / ROCKET_MASTER_KEY) — a new key would orphan them.",
                path.display()
            )));
        }
        let hex_key = MasterKey::generate_hex();
        write_new_secret_file(&path, &hex_key)?;
        tracing::info!(path = %path.display(), "generated a new master key");
        let key = MasterKey::from_hex(&hex_key).map_err(|_| malformed("the generated key"))?;
        Ok((key, Some(path)))
    }

    /// Rocket's cookie key: the configured `secret_key` (`None`), else `<data_dir>/secret.key`, generated once
    /// (then its path is answered too: a start that fails removes it).
    pub fn secret_key_hex(&self, figment: &Figment) -> Result<Option<(String, Option<PathBuf>)>, ConfigError> {
        // Rocket's own defaults carry an all-zero key: only a non-zero one counts as configured.
        let configured = figment.extract_inner::<rocket::config::SecretKey>("secret_key").is_ok_and(|k| !k.is_zero());
        if configured {
            return Ok(None);
        }
        let path = self.data_dir.join("secret.key");
        if path.exists() {
            let text = read_secret_file(&path, "cannot read the cookie secret file")?;
            return Ok(Some((text.trim().to_owned(), None)));
        }
        // Rocket takes 256 bits as 64 hex characters.
        let hex_key = hex::encode(rand::random::<[u8; 32]>());
        write_new_secret_file(&path, &hex_key)?;
        Ok(Some((hex_key, Some(path))))
    }
}

/// Reads a secret file, first making it readable by its owner only (0600) if it was not, with a warning.
fn read_secret_file(path: &Path, what: &'static str) -> Result<String, ConfigError> {
    let io_err = |source| ConfigError::Io { what, path: path.to_owned(), source };
    make_private(path).map_err(io_err)?;
    fs::read_to_string(path).map_err(io_err)
}

/// Takes group and other permissions off an existing file (0600 for a plain one), saying so: a file holding
/// secrets that others could read was copied in or restored with a loose mode. Answers whether it changed.
pub fn make_private(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    let others_may_read = mode & 0o077 != 0;
    if !others_may_read {
        return Ok(false);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))?;
    tracing::warn!(path = %path.display(), was = format!("{mode:o}"), now = format!("{:o}", mode & 0o700),
        "other users could read this file; it is now readable by its owner only");
    Ok(true)
}

/// Creates `path` with mode 0600; refuses to overwrite an existing file.
pub fn write_new_secret_file(path: &Path, contents: &str) -> Result<(), ConfigError> {
    let io_err = |source| ConfigError::Io { what: "cannot write the secret file", path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_err)?;
    }
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io_err)?;
    file.write_all(format!("{contents}\n").as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

/// Whether `dir` holds nothing but what revlink keeps there (its database and key files) and dotfiles.
fn only_revlink_files(dir: &Path) -> std::io::Result<bool> {
    const OURS: [&str; 2] = ["master.key", "secret.key"];
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') || name.starts_with("revlink.sqlite3") || OURS.contains(&name.as_ref())) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::figment;
    use std::os::unix::fs::PermissionsExt;

    fn config_in(dir: &Path) -> AppConfig {
        AppConfig::from_figment(&figment().merge(("data_dir", dir))).unwrap()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn master_key_is_generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let c = config_in(dir.path());
        let (_, generated) = c.load_master_key(false).unwrap();
        let path = dir.path().join("master.key");
        assert_eq!(generated.as_deref(), Some(path.as_path()), "the new file is named");
        let first = fs::read_to_string(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(c.load_master_key(true).unwrap().1, None, "nothing generated");
        assert_eq!(fs::read_to_string(&path).unwrap(), first, "an existing key is never replaced");
    }

    #[test]
    fn missing_key_with_stored_secrets_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = config_in(dir.path()).load_master_key(true).unwrap_err().to_string();
        assert!(err.contains("orphan"), "{err}");
        assert!(!dir.path().join("master.key").exists());
    }

    #[test]
    fn malformed_inline_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fig = figment().merge(("data_dir", dir.path())).merge(("master_key", "nothex"));
        let err = AppConfig::from_figment(&fig).unwrap().load_master_key(false).unwrap_err();
        assert!(err.to_string().contains("64 hexadecimal"));
    }

    #[test]
    fn the_data_directory_is_created_for_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/data");
        config_in(&data).ensure_data_dir().unwrap();
        assert_eq!(mode(&data), 0o700);
    }

    #[test]
    fn a_loose_data_directory_is_tightened_only_when_it_holds_nothing_but_revlink_files() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        fs::write(data.join(".gitignore"), "*\n").unwrap();
        fs::write(data.join("revlink.sqlite3"), "").unwrap();
        fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).unwrap();
        config_in(&data).ensure_data_dir().unwrap();
        assert_eq!(mode(&data), 0o700, "a fresh clone's data/ is revlink's own");
        fs::write(data.join("notes.txt"), "mine").unwrap();
        fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).unwrap();
        config_in(&data).ensure_data_dir().unwrap();
        assert_eq!(mode(&data), 0o755, "someone else's files: warned about, not changed");
    }

    #[test]
    fn a_key_file_others_can_read_is_tightened_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = config_in(dir.path());
        let (_, generated) = c.load_master_key(false).unwrap();
        let path = generated.unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        c.load_master_key(false).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(!make_private(&path).unwrap(), "already private: nothing to do");
    }
}
