//! The quickstart in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`e2e/quickstart.mjs`). Screenshots of every step land in `target/e2e-screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `npm ci --prefix e2e`; it fails (never skips) without them.

use std::path::Path;

use crate::support::{node, quickstart};

#[test]
fn quickstart_sign_in_flow_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (CI does)"
    );
    assert!(
        root.join("e2e/node_modules/playwright-core").exists(),
        "e2e packages are not installed: run `npm ci --prefix e2e` (CI does)"
    );

    let server = quickstart(&[]);
    let url = server.url.clone();

    let shots = root.join("target/e2e-screenshots");
    let out = node()
        .arg(root.join("e2e/quickstart.mjs"))
        .arg(&url)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node must be installed");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{stdout}"
    );
    for n in 1..=5 {
        let found = std::fs::read_dir(&shots).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{n}-"))
        });
        assert!(found, "screenshot {n} missing in {}", shots.display());
    }
}
