//! Start-up: create the database if missing, connect, migrate, build the app, serve, stop on SIGTERM.
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgPool};

use crate::config::Config;
use crate::http;
use crate::service::AppState;

/// Creates the database named in the URL when it does not exist yet.
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let opts: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a PostgreSQL URL")?;
    let name = opts
        .get_database()
        .map(str::to_string)
        .unwrap_or_else(|| "postgres".to_string());
    let admin = opts.clone().database("postgres");
    let mut conn = admin
        .connect()
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("create database \"{}\"", name.replace('"', "\"\""));
        match conn.execute(sql.as_str()).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it at the same moment (duplicate_database, or the catalog's
            // unique index when both got past the existence check).
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e).context("could not create the database"),
        }
    }
    conn.close().await.ok();
    Ok(())
}

fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparseable URL)".into(),
    }
}

pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    connect_to(config, &config.database_url, "DATABASE_URL").await
}

/// The replica's pool when `DATABASE_READ_URL` is set (search, browse, matches and the statistics
/// CSV read there), else a clone of `primary`. Connected lazily, so a replica that is down at start
/// delays nothing but its own reads.
pub async fn connect_read(config: &Config, primary: &PgPool) -> anyhow::Result<PgPool> {
    match &config.database_read_url {
        None => Ok(primary.clone()),
        Some(url) => {
            let opts: PgConnectOptions = url.parse().context("bad DATABASE_READ_URL")?;
            tracing::info!(replica = %redact(url), "reads of search, browse and matches go to the replica");
            Ok(PgPoolOptions::new()
                .max_connections(config.pool_size)
                .acquire_timeout(Duration::from_secs(5))
                .test_before_acquire(false)
                .connect_lazy_with(opts))
        }
    }
}

async fn connect_to(config: &Config, url: &str, what: &str) -> anyhow::Result<PgPool> {
    // Text-search statements are sent unprepared so they are planned with their values (src/db).
    let opts: PgConnectOptions = url.parse().with_context(|| format!("bad {what}"))?;
    PgPoolOptions::new()
        .max_connections(config.pool_size)
        // While the database is down a request waits this long for a connection, then answers
        // 503 `database_unavailable` (src/error.rs); /readyz says 503 within 2 s.
        .acquire_timeout(Duration::from_secs(5))
        // No ping before every acquire: it is a round trip per acquire (four per settlement
        // request). A connection that died meanwhile fails its first query, sqlx drops it, and the
        // request fails (503 `database_unavailable`) without effect: its transaction never
        // committed. sqlx pings a connection when it is released, so a dead one is dropped then;
        // after a database restart at most one request per pooled connection fails
        // (tests/api/resilience/db_restart.rs).
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations")
        .run(pool)
        .await
        .context("migrations failed")?;
    Ok(())
}

pub fn state(pool: PgPool, config: Config) -> AppState {
    AppState::new(pool, config)
}

/// Everything `serve` does, up to the server stopping.
pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    ensure_database(&config.database_url).await?;
    let pool = connect(&config).await?;
    migrate(&pool).await?;
    // Parse the vocabulary now (off the async workers) so that no request waits for it.
    let started = std::time::Instant::now();
    let concepts =
        tokio::task::spawn_blocking(|| crate::domain::vocabulary::vocabulary().concepts().len())
            .await?;
    for e in crate::domain::vocabulary::load_errors() {
        tracing::warn!(error = %e, "vocabulary line skipped");
    }
    tracing::info!(
        concepts,
        ms = started.elapsed().as_millis() as u64,
        "vocabulary loaded"
    );
    if demo {
        crate::service::demo::load(&pool).await?;
    }
    let addr = config.addr;
    let run_jobs = config.run_jobs;
    let read_pool = connect_read(&config, &pool).await?;
    let mut state = state(pool.clone(), config);
    state.read_pool = read_pool;
    crate::service::fees::cache::spawn_invalidator(&state.events, &pool);
    state.matches.spawn(pool.clone());
    state
        .events
        .spawn_listener(pool.clone(), crate::service::events::live::CHANNELS);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let jobs = if run_jobs {
        Some(crate::jobs::spawn(state.clone(), stop_rx.clone()))
    } else {
        None
    };
    let app = http::app(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    println!("techmarket listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server failed")?;
    let _ = stop_tx.send(true);
    if let Some(j) = jobs {
        let _ = tokio::time::timeout(Duration::from_secs(10), j).await;
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
