//! The `techmarket` command: serve, migrate, admin, seed.
use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use techmarket::config::Config;
use techmarket::domain::codes::Exchange;
use techmarket::{startup, telemetry};

#[derive(Parser)]
#[command(
    name = "techmarket",
    version,
    about = "成渝技术交易市场 — Chengdu–Chongqing technology market"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if missing, apply migrations and serve on TECHMARKET_ADDR.
    Serve {
        /// Load the demo data once and print the demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if missing and apply migrations, then exit.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Data for demonstrations and benchmarks.
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make an exchange administrator; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// suaee | cdipex | nttc_sw | cquaee
        #[arg(long)]
        exchange: String,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        name: Option<String>,
    },
    /// Give an administrator a new two-factor secret and recovery codes (the old ones stop
    /// working): for an admin made before two-factor sign-in, or one who lost the authenticator.
    TwoFactor {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// The demo organisations, accounts, listings, demands and trades (idempotent).
    Demo,
    /// N realistic listed listings (and M open demands) for benchmarks.
    Bulk {
        #[arg(long)]
        listings: u32,
        #[arg(long, default_value_t = 0)]
        demands: u32,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    match cli.command {
        Command::Serve { demo } => startup::serve(config, demo).await,
        Command::Migrate => {
            let pool = prepare(&config).await?;
            // Listings' matching profiles of this vocabulary (the server's job would do it too, in the background).
            let n = techmarket::service::listings::profiles::refresh_all(&pool).await?;
            pool.close().await;
            println!("migrations applied; matching profiles computed for {n} listings");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    exchange,
                    password_stdin,
                    name,
                },
        } => {
            let exchange = Exchange::parse(&exchange).with_context(|| {
                format!("unknown exchange {exchange:?}: use suaee, cdipex, nttc_sw or cquaee")
            })?;
            if !password_stdin {
                anyhow::bail!("pass --password-stdin and write the password to standard input");
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let pool = prepare(&config).await?;
            let display = name.unwrap_or_else(|| format!("{} 管理员", exchange.name_zh()));
            match techmarket::service::accounts::create_admin(
                &pool, &email, exchange, &password, &display,
            )
            .await
            {
                Ok(created) => {
                    println!(
                        "admin {email} created for {} ({})",
                        exchange.code(),
                        created.id
                    );
                    print_two_factor(&created.two_factor);
                    Ok(())
                }
                Err(techmarket::error::Error::Validation(f)) => {
                    for e in f.0 {
                        eprintln!(
                            "{}: {}",
                            e.path,
                            techmarket::i18n::tf(techmarket::i18n::Lang::En, e.key, &e.args)
                        );
                    }
                    anyhow::bail!("admin not created")
                }
                Err(techmarket::error::Error::Conflict { .. }) => {
                    anyhow::bail!("an account with the e-mail {email} exists already")
                }
                Err(e) => Err(anyhow::Error::new(e)),
            }
        }
        Command::Admin {
            command: AdminCommand::TwoFactor { email },
        } => {
            let pool = prepare(&config).await?;
            match techmarket::service::two_factor::reissue_for_admin(
                &pool,
                &email,
                chrono::Utc::now(),
            )
            .await
            {
                Ok(issued) => {
                    println!("new two-factor secret for {email}");
                    print_two_factor(&issued);
                    Ok(())
                }
                Err(techmarket::error::Error::NotFound) => {
                    anyhow::bail!("no administrator with the e-mail {email}")
                }
                Err(e) => Err(anyhow::Error::new(e)),
            }
        }
        Command::Seed { command } => {
            let pool = prepare(&config).await?;
            match command {
                SeedCommand::Demo => {
                    techmarket::demo::load(&pool).await?;
                }
                SeedCommand::Bulk { listings, demands } => {
                    techmarket::demo::bulk(&pool, listings, demands).await?;
                }
            }
            Ok(())
        }
    }
}

async fn prepare(config: &Config) -> anyhow::Result<sqlx::PgPool> {
    startup::ensure_database(&config.database_url).await?;
    let pool = startup::connect(config).await?;
    startup::migrate(&pool).await?;
    Ok(pool)
}

/// What an administrator needs for two-factor sign-in, printed once: the authenticator URI (SHA-1,
/// 6 digits, 30 s) and the ten recovery codes.
fn print_two_factor(issued: &techmarket::service::two_factor::Issued) {
    println!("two-factor sign-in (add to an authenticator app):");
    println!("{}", issued.otpauth_uri);
    println!("recovery codes (each works once; keep them safe):");
    for c in &issued.recovery_codes {
        println!("  {c}");
    }
}
