//! The `backend` binary: `serve` runs the service; `migrate` applies pending migrations;
//! `backup`, `restore`, `export`, `import`, `transfer`, `integrity` keep the data safe.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use backend::api::{Auth, TokenRule};
use clap::{Parser, Subcommand};
use db_conn::DatabaseTarget;

#[derive(Parser)]
#[command(name = "backend", version, about = "personalfinance backend")]
struct Cli {
    /// Database: a postgres:// URL, sqlite://path or a file path [default: the SQLite file DATABASE_PATH, else data/personalfinance.db]
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the HTTP API until SIGTERM.
    Serve {
        #[arg(long, env = "PORT", default_value_t = 8000)]
        port: u16,
        #[arg(long, env = "HOST", default_value = "0.0.0.0")]
        host: IpAddr,
        /// Allow running without API_TOKEN (authentication disabled). Local use only.
        #[arg(long)]
        dev: bool,
    },
    /// Apply pending migrations and exit (`serve` does it too, before it listens).
    Migrate,
    /// Data safety: backup, restore, export, import, transfer, integrity.
    #[command(flatten)]
    Data(backend::backup_cli::DataCommand),
    /// Bookkeeping: `dca run [--as-of DATE]`, `snapshots run [--date DATE]`.
    #[command(flatten)]
    Ledger(backend::cli_ledger::LedgerCommand),
    /// Provider statement files into the tables: `statements import --source ibkr FILE`.
    #[command(subcommand)]
    Statements(backend::cli_imports::StatementsCommand),
    /// Fetch every provider with credentials (IBKR_FLEX_TOKEN, WISE_API_TOKEN, OKX_API_KEY, EVM_RPC_URL) into the tables.
    Sync {
        /// Only this provider: ibkr, wise, okx or evm
        #[arg(long, value_parser = backend::cli_imports::parse_sync_source)]
        source: Option<imports::Source>,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let target = DatabaseTarget::resolve(cli.database_url.as_deref())?;
    match cli.command {
        Command::Serve { port, host, dev } => {
            let rule = if dev {
                TokenRule::OptionalForDev
            } else {
                TokenRule::Required
            };
            let auth = Auth::from_token(std::env::var("API_TOKEN").ok(), rule)?;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(backend::server::run(
                target,
                auth,
                SocketAddr::new(host, port),
                backend::server::shutdown_signal(),
            ))?;
        }
        Command::Migrate => {
            backend::guard::check(&target)?;
            let (_, applied) = backend::server::prepare(&target)?;
            println!(
                "{}: {} migration(s) applied",
                target.display(),
                applied.len()
            );
        }
        Command::Data(command) => backend::backup_cli::run(&command, &target)?,
        Command::Ledger(command) => backend::cli_ledger::run(&command, &target)?,
        Command::Statements(command) => backend::cli_imports::run_statements(&command, &target)?,
        Command::Sync { source } => backend::cli_imports::run_sync(source, &target)?,
    }
    Ok(())
}
