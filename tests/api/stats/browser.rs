//! The dashboard and the home page in a real browser (tests/py/stats_pages.py, Debian's chromium):
//! at 1280 and 390 px, in both languages, no page is wider than the screen and no text of a chart
//! overlaps another, leaves its chart or is drawn under 10 px. Screenshots in target/stats-pages/.
use crate::python;
use crate::server::{Database, Server, ServerOptions};

/// The demo market and 400 more settled trades over two years, all fields and exchanges.
const MORE_TRADES: &str = "
with l as (select row_number() over (order by id) - 1 as i, id, organization_id, exchange, field from listings),
o as (select row_number() over (order by id) - 1 as i, id, exchange from organizations),
g as (select g, (g * 7) % (select count(*) from l) as li, (g * 13) % (select count(*) from o) as oi,
             (10000 + (g * 7919) % 900000) * 1000 as price from generate_series(1, 400) g)
insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, transaction_mode,
  contract_type, exclusive, status, fee_schedule_id, buyer_fee_fen, seller_fee_fen, seller_exchange, buyer_exchange,
  source, created_at, paid_at, settled_at)
select gen_random_uuid(), l.id, l.organization_id, o.id, g.price, 'nonexclusive_license', 'tech_license', false,
  'settled', '00000000-0000-7000-8000-000000000001', greatest(30000, g.price / 100), greatest(30000, g.price / 100),
  l.exchange, o.exchange, 'purchase', now(), now(), timestamptz '2025-01-01' + (g.g * 43 % 700) * interval '1 day'
from g join l on l.i = g.li join o on o.i = g.oi where o.id <> l.organization_id";

#[tokio::test]
async fn the_dashboard_fits_a_phone_and_its_charts_read_in_a_real_browser() {
    let db = Database::fresh("stats_browser");
    let server = Server::start(ServerOptions {
        demo: true,
        jobs: false,
        ..ServerOptions::new(&db.url)
    })
    .await;
    let mut conn = db.connect().await;
    let added = sqlx::query(MORE_TRADES).execute(&mut conn).await.unwrap();
    assert!(added.rows_affected() > 300);
    let base = server.base.clone();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/stats-pages")
        .to_string_lossy()
        .to_string();
    let out = tokio::task::spawn_blocking(move || {
        python::run_ok("stats_pages.py", &[&base, &shots], &[])
    })
    .await
    .unwrap();
    // 8 page visits; 6 charts on each of the 4 dashboards.
    assert!(out.contains("checked 32 pages and charts"), "{out}");
}
