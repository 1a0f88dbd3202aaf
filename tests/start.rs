//! The server's start as its operator sees it, with the real binary: a short banner then the setup link, set
//! apart and last; no Rocket banner, no WARN for the launch, no ERROR for the favicon; the data directory and the
//! database files readable by their owner only; and a start that cannot have its port leaves no secret behind.

#[path = "support/binary.rs"]
mod binary;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binary::free_port;

fn server(dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_revlink"));
    cmd.current_dir(dir)
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_PORT", port.to_string())
        .env_remove("RUST_LOG")
        .env_remove("ROCKET_LOG_LEVEL")
        .env_remove("ROCKET_ROCKET_BANNER");
    cmd
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// A GET over a plain socket: the status line and the headers.
fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[test]
fn the_start_prints_a_short_banner_then_the_setup_link_and_keeps_the_files_private() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = server(dir.path(), port).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Stdout until the rule that closes the setup link.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = String::new();
    let mut rules = 0;
    while rules < 2 {
        assert!(Instant::now() < deadline, "no setup link in time: {printed}");
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "stdout closed: {printed}");
        rules += usize::from(line.trim().starts_with("-----"));
        printed.push_str(&line);
    }
    let favicon = get(port, "/favicon.ico");
    let page = get(port, "/setup");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(child.wait().unwrap().success());

    let data = dir.path().join("data");
    let banner = printed.split("-----").next().unwrap();
    for fact in [
        format!("revlink {}", env!("CARGO_PKG_VERSION")),
        "(development)".to_owned(),
        format!("http://127.0.0.1:{port}"),
        data.display().to_string(),
        "https://api.stripe.com".to_owned(),
        "setup link printed below".to_owned(),
    ] {
        assert!(banner.contains(&fact), "the banner names {fact}: {printed}");
    }
    assert!(banner.lines().count() < 10, "a short banner: {printed}");
    let link = format!("http://127.0.0.1:{port}/setup?code=");
    assert!(printed.contains(&format!("\n\n    {link}")), "the link set apart: {printed}");
    assert!(rest.trim().is_empty(), "the setup link is printed last: {rest}");

    for noise in
        ["Rocket has launched", "Routes:", "log level", "Fairings:", "Shield:", "ERROR", " WARN rocket::launch"]
    {
        assert!(!log.contains(noise), "{noise:?} in the log:\n{log}");
    }
    assert!(favicon.starts_with("HTTP/1.1 200") && favicon.contains("image/svg+xml"), "{favicon}");
    assert!(page.contains("content-type: text/html"), "{page}");

    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in ["revlink.sqlite3", "master.key", "secret.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    for file in ["revlink.sqlite3-wal", "revlink.sqlite3-shm"] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
}

#[test]
fn rocket_banner_brings_rockets_own_lines_back_with_the_launch_as_info() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = server(dir.path(), port)
        .env("ROCKET_ROCKET_BANNER", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    while !log.contains("Rocket has launched") {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "stderr closed: {log}");
        log.push_str(&line);
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    let launched = log.lines().find(|l| l.contains("Rocket has launched")).unwrap();
    assert!(launched.contains(" INFO ") && !launched.contains("WARN"), "{launched}");
    assert!(log.contains("Routes:") && log.contains("log level: normal"), "Rocket's banner: {log}");
    assert!(!log.contains(" WARN rocket::launch"), "the banner is information: {log}");
}

#[test]
fn a_second_instance_that_cannot_have_the_port_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = server(dir.path(), port).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")), "{stderr}");
    assert!(!dir.path().join("data").exists(), "no data directory, so no new key in it");
}

/// Should Rocket fail to bind after all (another process took the port between the check and the launch), the
/// secrets the start generated are removed.
#[rocket::async_test]
async fn a_launch_that_fails_removes_the_secrets_it_generated() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let figment = || {
        revlink::config::figment()
            .merge(("data_dir", dir.path()))
            .merge(("port", port))
            .merge(("log_level", "off"))
            .merge(("auto_import", false))
    };
    let (master, secret) = (dir.path().join("master.key"), dir.path().join("secret.key"));
    let rocket = revlink::build(figment()).unwrap();
    assert!(master.exists() && secret.exists(), "generated by build");
    assert!(revlink::launch_or_forget(rocket).await.is_err());
    assert!(!master.exists() && !secret.exists(), "no new secret left behind");

    // Keys that were there before the start are never removed.
    drop(revlink::build(figment()).unwrap());
    let kept = std::fs::read_to_string(&master).unwrap();
    assert!(revlink::launch_or_forget(revlink::build(figment()).unwrap()).await.is_err());
    assert_eq!(std::fs::read_to_string(&master).unwrap(), kept, "an existing key stays");
    assert!(secret.exists());
    drop(taken);
}

#[test]
fn a_server_whose_output_is_closed_keeps_serving() {
    // A supervisor (or a test) that stops reading stdout once it saw the banner's first line: the setup link that
    // follows meets a closed pipe, and the server must go on answering.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = server(dir.path(), port).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("revlink "), "{first}");
    // The reader (and the pipe's read end) is gone now; wait for the server to have printed into it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            write!(stream, "GET /setup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if !answer.is_empty() {
                break answer;
            }
        }
        assert!(Instant::now() < deadline, "the server stopped answering");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(child.try_wait().unwrap().is_none(), "the server is still running after writing into a closed pipe");
    assert!(get(port, "/login").starts_with("HTTP/1.1 200"));
    let _ = child.kill();
    let _ = child.wait();
}
