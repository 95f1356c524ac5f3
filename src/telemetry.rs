//! Logging: `RUST_LOG` filters, default `info` for us and `warn` for libraries.
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("techmarket=info,tower_http=info,warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
