//! The real `revlink` binary for the tests that need a process (admin commands, kill -9, SIGTERM,
//! backups): each runs against `dir/data`.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs an admin command against `dir/data` and waits for it.
pub fn revlink(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_revlink"))
        .args(args)
        .current_dir(dir)
        .env("ROCKET_DATA_DIR", dir.join("data"))
        // A server started this way (one expected to refuse) must not depend on port 8000 being free.
        .env("ROCKET_PORT", free_port().to_string())
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

/// A command that must succeed: the one JSON object (one line) it printed.
pub fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let out = revlink(dir, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 on stdout");
    assert_eq!(stdout.lines().count(), 1, "one JSON object on stdout: {stdout}");
    serde_json::from_str(&stdout).expect("JSON on stdout")
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
