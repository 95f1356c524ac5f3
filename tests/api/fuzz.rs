//! API fuzzing with schemathesis (tests/py/fuzz.py) against a real server with the demo data, as
//! anonymous, a verified member and an exchange admin: no 5xx, no undocumented status, no body
//! outside its schema. Short in CI (about three minutes); TECHMARKET_LONG=1 runs it long with a fresh
//! seed, TECHMARKET_FUZZ_SEED=N replays one. Reports: target/fuzz/<caller>/.
use crate::contract::run_script;
use crate::server::{Database, Server, ServerOptions};

#[tokio::test]
async fn schemathesis_finds_no_5xx_no_undocumented_status_and_no_body_outside_its_schema() {
    let db = Database::fresh("fuzz");
    let mut opts = ServerOptions::new(&db.url);
    opts.demo = true;
    opts.jobs = true;
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz");
    std::fs::create_dir_all(&log).expect("target/fuzz");
    opts.log_file = Some(log.join("server.log"));
    let server = Server::start(opts).await;
    let started = std::time::Instant::now();
    let out = run_script(
        "fuzz.py",
        vec![server.base.clone(), log.to_string_lossy().into_owned()],
    )
    .await;
    println!("{out}fuzzing took {} s", started.elapsed().as_secs());
    assert!(out.contains("failed callers: none"), "{out}");
}
