//! Python tools for tests (OpenAPI validation, schemathesis, a generated client, browsers via
//! selenium): one virtual environment under `target/py`, made on first use from
//! `tests/py/requirements.txt` (pinned) and remade when that file changes. Installs from PyPI,
//! which this machine's kind reaches; nothing is installed by hand.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The virtual environment's `python`, created or refreshed if needed (once per test process).
pub fn python() -> PathBuf {
    let mut guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = guard.as_ref() {
        return p.clone();
    }
    let req_path = root().join("tests/py/requirements.txt");
    let requirements = std::fs::read_to_string(&req_path).expect("tests/py/requirements.txt");
    let venv = root().join("target/py");
    let py = venv.join("bin/python");
    let marker = venv.join("requirements.installed");
    let fresh = std::fs::read_to_string(&marker).ok().as_deref() == Some(requirements.as_str());
    if !(py.exists() && fresh) {
        let ok = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "python3 -m venv target/py");
        let out = Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&req_path)
            .output()
            .expect("pip");
        assert!(
            out.status.success(),
            "pip install -r tests/py/requirements.txt failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&marker, &requirements).expect("venv marker");
    }
    *guard = Some(py.clone());
    py
}

/// Runs `tests/py/<script>` with the venv's python; returns its output (stdout and stderr kept).
pub fn run(script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let py = python();
    let mut cmd = Command::new(py);
    cmd.arg(root().join("tests/py").join(script))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run python script")
}

/// Panics with the script's output unless it exited 0.
pub fn run_ok(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(script, args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "tests/py/{script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
