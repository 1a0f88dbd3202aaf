//! The revlink binary: parse the command line, then serve or run one admin command.

use std::process::ExitCode;

use clap::Parser;
use revlink::cli::{self, Cli, Command};
use tracing_subscriber::EnvFilter;

#[rocket::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    let serving = matches!(args.command, None | Some(Command::Serve));
    // Admin commands keep stdout for their JSON: their log goes to stderr, quietly.
    // Serving, Rocket's four lines per request stay out by default: on a busy tracking endpoint they would be
    // most of the log (about 4 MB a second at 10,000 events a second). `RUST_LOG=info` brings them back.
    let default_filter = if serving { "info,rocket::server=warn" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)))
        .with_writer(std::io::stderr)
        .init();
    let figment = revlink::config::figment();

    match args.command {
        None | Some(Command::Serve) => serve(figment).await,
        Some(command) => match cli::run(command, &figment).await {
            Ok(value) => {
                println!("{value}");
                ExitCode::SUCCESS
            }
            Err(failure) => {
                if let Some(report) = failure.report {
                    println!("{report}");
                }
                eprintln!("error: {}", failure.message);
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve(figment: rocket::figment::Figment) -> ExitCode {
    let rocket = match revlink::build(figment) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
