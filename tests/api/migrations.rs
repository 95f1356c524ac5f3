//! Every migration has a version of its own: two files with one version (two engineers' migrations
//! landing the same day) make sqlx refuse every database, so this fails first and says which.
#[test]
fn every_migration_version_is_unique() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut seen = std::collections::HashMap::new();
    for entry in std::fs::read_dir(dir).expect("migrations folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        let Some((version, _)) = name.split_once('_') else {
            continue;
        };
        if let Some(other) = seen.insert(version.to_string(), name.clone()) {
            panic!("{name} and {other} share the version {version}");
        }
    }
    assert!(seen.len() > 10, "only {} migrations found", seen.len());
}
