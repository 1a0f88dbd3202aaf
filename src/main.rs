//! The revlink binary: parse the command line, then serve or run one admin command.

use std::process::ExitCode;

use clap::Parser;
use revlink::cli::{self, Cli, Command};

#[rocket::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    let serving = matches!(args.command, None | Some(Command::Serve));
    let figment = revlink::config::figment();
    // Admin commands keep stdout for their JSON: their log goes to stderr, quietly.
    revlink::console::init_logging(&figment, serving);

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
    match revlink::serve(figment).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
