//! The offline helpers (`tests/it/support.rs`), and runners for the tools these tests need.

#[path = "../it/support.rs"]
mod shared;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
pub use shared::*;
use tower_nextauth::Format;

/// `node`, or a failure that says what to install. Never a skip.
pub fn node() -> Command {
    let found = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`node` is not on PATH: install Node.js 20 or later (CI does) to run the external tests, \
         or run only the offline ones with `cargo test --test it`"
    );
    Command::new("node")
}

/// Runs `node interop/<script> <args>` with `stdin`, and returns its stdout. Fails loudly when
/// Node or the interop packages are missing: these tests are never skipped.
pub fn interop_node(script: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let interop = concat!(env!("CARGO_MANIFEST_DIR"), "/interop");
    assert!(
        Path::new(interop).join("node_modules/next-auth").exists(),
        "interop packages are not installed: run `npm ci --prefix interop` (CI does)"
    );
    let mut child = node()
        .arg(script)
        .args(args)
        .current_dir(interop)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed to run the interop tests");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "node {script} failed");
    out.stdout
}

/// Sends a batch of JSON requests to `interop/<script>` and returns its answers, in order.
pub fn interop_batch(script: &str, requests: &[Value]) -> Vec<Value> {
    let stdout = interop_node(
        script,
        &[],
        Value::from(requests.to_vec()).to_string().as_bytes(),
    );
    let answers: Vec<Value> = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(answers.len(), requests.len());
    answers
}

/// The session cookie's name, with next-auth's `__Secure-` prefix on HTTPS.
pub fn session_cookie_name(format: Format, secure: bool) -> String {
    let base = format.cookie_name();
    if secure {
        format!("__Secure-{base}")
    } else {
        base.to_owned()
    }
}

/// The interop scripts' name for a format.
pub fn fmt(format: Format) -> &'static str {
    match format {
        Format::V4 => "v4",
        Format::V5 => "v5",
        other => unreachable!("no interop peer for {other:?}"),
    }
}
