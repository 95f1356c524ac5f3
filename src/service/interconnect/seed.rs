//! Demo data of the interconnect: the Chongqing exchange's administrator has registered one
//! webhook for its own systems and disabled it (a demo has no receiver: an active webhook would
//! fail and retry for a day), so `/admin/systems` lists one and `/admin/webhooks/{id}` shows it.
//! Through the use cases (audited); idempotent (only when the exchange has no webhook).
use crate::service::demo::user;
use crate::service::AppState;

use super::webhooks::{self, WebhookInput};

/// Demo data of this area, called by `demo::load`.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let Some(admin) = user(&state.pool, "admin-cquaee@demo.techmarket.cn").await? else {
        return Ok(());
    };
    let err = |e| anyhow::anyhow!("demo webhook: {e}");
    if !webhooks::list(state, &admin).await.map_err(err)?.is_empty() {
        return Ok(());
    }
    let created = webhooks::create(
        state,
        &admin,
        WebhookInput {
            url: "http://127.0.0.1:9/cquaee/techmarket-events".into(),
            events: vec!["listing.listed".into(), "trade.paid".into()],
        },
    )
    .await
    .map_err(err)?;
    webhooks::disable(state, &admin, created.id)
        .await
        .map_err(err)?;
    Ok(())
}
