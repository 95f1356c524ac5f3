//! The one benchmark command (`bench/run`, issue 23) runs end to end in its smoke size: a fresh
//! database, the bulk seed, the server, every scenario and pay-and-settle, with no errors. The
//! figures themselves are not asserted (speed is measured, not tested); `bench/run` without
//! `--quick` is the real run. Needs wrk and pgbench: the script installs wrk when it is missing.
use std::process::Command;

use crate::server::server_url;

#[test]
fn the_benchmark_command_runs_every_scenario_without_errors() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let db = format!("techmarket_bench_smoke_{}", &id[..12]);
    let json = std::env::temp_dir().join(format!("{db}.json"));
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/run"))
        .args(["--quick", "--duration", "1", "--no-results", "--db", &db])
        .args(["--binary", env!("CARGO_BIN_EXE_techmarket")])
        .arg("--json")
        .arg(&json)
        .env("BENCH_PG", server_url())
        .output()
        .expect("python3 runs bench/run");
    assert!(
        out.status.success(),
        "bench/run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).unwrap();
    let _ = std::fs::remove_file(&json);
    let rows = v["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["scenario"].as_str()).collect();
    for want in [
        "/readyz",
        "listing JSON",
        "listing HTML page",
        "search q=燃气轮机 (broad)",
        "search q=芯片 (two characters)",
        "search q=turbine (English)",
        "search patent number",
        "demand matches",
        "fee quote",
        "fee calculator page",
        "statistics page",
        "bids, one hot auction, 32 bidders",
        "listing JSON beside a login flood",
        "pay and settle (settlements/s)",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
        assert!(
            report.contains(want),
            "{want} missing from the table:\n{report}"
        );
    }
    for r in rows {
        assert_eq!(r["errors"], 0, "{r}");
        assert!(r["rps"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
    }
    assert_eq!(v["errors"], 0);
    assert!(!report.contains("the ledger did not verify"), "{report}");
}
