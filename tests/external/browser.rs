//! The quickstart in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`e2e/quickstart.mjs`). Screenshots of every step land in `target/e2e-screenshots/`: the home
//! page, sign-in, dashboard, the admin 403, and the session page signed out, signed in and with a
//! tampered cookie.
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

    // Emptied first, so that a screenshot left by an earlier run never stands in for one.
    let shots = root.join("target/e2e-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
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
    // One "ok <n> <title>" line per step, in order, each with its screenshot `<n>-<title>.png`.
    let steps: Vec<(usize, &str)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok "))
        .map(|l| {
            let (n, title) = l.split_once(' ').unwrap_or((l, ""));
            (n.parse().unwrap_or(0), title)
        })
        .collect();
    let titles: Vec<&str> = steps.iter().map(|(_, title)| *title).collect();
    assert_eq!(titles, STEPS, "{stdout}");
    for (i, (n, title)) in steps.iter().enumerate() {
        assert_eq!(*n, i + 1, "{stdout}");
        let shot = shots.join(format!("{n}-{title}.png"));
        let size = std::fs::metadata(&shot).map_or(0, |m| m.len());
        assert!(
            size > 1000,
            "screenshot {} missing or empty",
            shot.display()
        );
    }
}

/// The steps of e2e/quickstart.mjs, one screenshot each: every page of the quickstart, signed
/// out and signed in, the 403, and the session page refusing a tampered cookie.
const STEPS: [&str; 9] = [
    "home-signed-out",
    "session-signed-out",
    "dashboard-redirects-to-sign-in",
    "signed-in-back-on-dashboard",
    "session-signed-in",
    "admin-is-forbidden-for-a-user",
    "session-tampered-cookie",
    "signed-out",
    "dashboard-redirects-again",
];
