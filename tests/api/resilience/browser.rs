//! Item 8: browser journeys in headless chromium, in Chinese and in English, on a 1280 px desktop
//! and a 390 px phone (tests/py/journeys.py): register, verify, list, review, search, offer,
//! counter, accept, payment, the seller's delivery, the buyer's acceptance, statement, and a live
//! auction seen by a second browser without reloading; every page screenshotted under
//! target/browser/<width>/<lang>/, free of console errors and CSP violations, without serious or
//! critical axe-core violations, and without sideways scrolling outside tables. axe-core comes from the npm registry, pinned in
//! tests/js/package-lock.json and installed with `npm ci` into target/js.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::python;
use crate::server::{Database, Server, ServerOptions};

/// `target/js/node_modules/axe-core/axe.min.js`, installed from tests/js when its lock changed.
/// Once per test process: two browser tests asking at once ran `npm ci` twice, and the second
/// removed node_modules while the first's journey was reading axe.min.js ("axe is not defined").
fn axe_js() -> PathBuf {
    static AXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    AXE.get_or_init(install_axe).clone()
}

fn install_axe() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/js");
    let js = dir.join("node_modules/axe-core/axe.min.js");
    let lock =
        std::fs::read_to_string(root.join("tests/js/package-lock.json")).expect("tests/js lock");
    let marker = dir.join("installed.lock");
    if js.exists() && std::fs::read_to_string(&marker).ok().as_deref() == Some(lock.as_str()) {
        return js;
    }
    std::fs::create_dir_all(&dir).expect("target/js");
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(root.join("tests/js").join(f), dir.join(f)).expect("copy tests/js");
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&dir)
        .output()
        .expect("npm (Debian's nodejs/npm)");
    assert!(
        out.status.success(),
        "npm ci in target/js failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&marker, lock).expect("marker");
    js
}

#[tokio::test]
async fn journeys_in_a_real_browser_in_chinese_and_english() {
    let db = Database::fresh("journeys");
    let mut opts = ServerOptions::new(&db.url);
    opts.demo = true;
    opts.log_file = Some(super::log_path("journeys.log"));
    let server = Server::start(opts).await;
    let axe = axe_js();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    let base = server.base.clone();
    let (axe, out) = (axe.display().to_string(), out.display().to_string());
    let stdout = tokio::task::spawn_blocking(move || {
        python::run_ok(
            "journeys.py",
            &[
                &base,
                "admin-suaee@demo.techmarket.cn",
                techmarket::demo::DEMO_PASSWORD,
                &axe,
                &out,
            ],
            &[],
        )
    })
    .await
    .unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    // Four journeys (two languages, two widths) of more than forty-five pages each were walked
    // and checked.
    assert!(summary["pages"].as_u64().unwrap_or(0) >= 4 * 45, "{stdout}");
    drop(server);
}

/// Issue 16's journey in a real browser (tests/py/deposit_journey.py) on a demo server: a colleague
/// invited on the page pays the deposit (recorded by the exchange), bids, is outbid and told; the
/// test then ends the auction (its deadline moved to now; the server's own job closes it), and the
/// colleague sees the refund, the winner pays, the certificate's public page says genuine, an
/// administrator without the code stays outside. Chinese at 390 px; pages checked as above.
#[tokio::test]
async fn the_deposit_journey_in_a_real_browser() {
    let db = Database::fresh("deposit_journey");
    let mut opts = ServerOptions::new(&db.url);
    opts.demo = true;
    opts.log_file = Some(super::log_path("deposit_journey.log"));
    let server = Server::start(opts).await;
    let axe = axe_js().display().to_string();
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/browser/deposit-journey")
        .display()
        .to_string();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            python::run_ok("deposit_journey.py", &args, &[])
        })
    };
    let base = server.base.clone();
    let stdout = run(vec![base.clone(), axe.clone(), out.clone(), "bid".into()])
        .await
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    let listing = first["listing"].as_str().expect("the auction").to_string();
    let colleague = first["colleague"]
        .as_str()
        .expect("the colleague")
        .to_string();

    // The deadline comes: the server's auction job closes it within a few seconds.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query("update auctions set ends_at = now() where listing_id = $1::uuid")
        .bind(&listing)
        .execute(&pool)
        .await
        .unwrap();
    let mut trade = None;
    for _ in 0..60 {
        trade = sqlx::query_scalar::<_, Option<String>>(
            "select trade_id::text from auctions where listing_id = $1::uuid and status = 'closed'",
        )
        .bind(&listing)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten();
        if trade.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let trade = trade.expect("the auction closed with a trade");
    pool.close().await;
    let stdout = run(vec![
        base,
        axe,
        out,
        "close".into(),
        listing,
        colleague,
        trade,
    ])
    .await
    .unwrap();
    let second: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    let pages = first["pages"].as_u64().unwrap_or(0) + second["pages"].as_u64().unwrap_or(0);
    assert!(pages >= 25, "{stdout}");
    drop(server);
}
