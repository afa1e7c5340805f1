//! The `inspect` example as a black box: tokens and Cookie lines in, one JSON line out each.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{json, Value};
use tower_nextauth::{Builder, Format};

use crate::support::{example, fixture, pair, sessions, strs, NOW, SECRET};

fn run(env_secret: Option<&str>, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = example("inspect");
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(secret) = env_secret {
        cmd.env("NEXTAUTH_SECRET", secret);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    // A child that exits early (a usage error) may close stdin before reading it all.
    if let Err(err) = writer.join().unwrap() {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
    out
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn tokens_and_cookie_lines_print_their_claims() {
    let claims = json!({"name": "Ada", "email": "ada@example.com", "role": "admin", "blob": "z".repeat(9000)});
    let v4 = sessions(Format::V4, &[SECRET]);
    let v5 = sessions(Format::V5, &[SECRET]);
    let v4_token = v4.encode(&json!({"name": "Ada", "role": "user"})).unwrap();
    let v5_token = v5.encode(&json!({"name": "Bob", "role": "admin"})).unwrap();
    // A chunked v5 cookie, chunks sent out of order.
    let set = v5.sign_in(&Default::default(), &claims).unwrap();
    let mut pairs: Vec<String> = strs(&set).into_iter().map(|c| pair(c).to_owned()).collect();
    assert!(pairs.len() >= 3, "{} chunks", pairs.len());
    pairs.reverse();
    let chunked = format!("Cookie: theme=dark; {}", pairs.join("; "));
    let secure = Builder::new()
        .secret(SECRET)
        .format(Format::V4)
        .secure_cookie(true)
        .clock(|| NOW)
        .build()
        .unwrap();
    let secure_token = secure.sessions().encode(&json!({"name": "Sec"})).unwrap();
    let input = format!(
        "{v4_token}\n{v5_token}\n{chunked}\n__Secure-next-auth.session-token={secure_token}\n\n"
    );
    let out = run(Some(SECRET), &["--now", &NOW.to_string()], input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out);
    assert_eq!(got.len(), 4);
    assert_eq!(
        (got[0]["name"].as_str(), got[0]["role"].as_str()),
        (Some("Ada"), Some("user"))
    );
    assert_eq!(
        (got[1]["name"].as_str(), got[1]["role"].as_str()),
        (Some("Bob"), Some("admin"))
    );
    assert_eq!(got[2]["email"], "ada@example.com");
    assert_eq!(got[2]["blob"].as_str().unwrap().len(), 9000);
    assert_eq!(got[3]["name"], "Sec");
    assert_eq!(got[0]["iat"], NOW);
}

#[test]
fn failures_have_reasons_and_exit_1() {
    let v4 = sessions(Format::V4, &[SECRET]);
    let token = v4.encode(&json!({"name": "Ada"})).unwrap();
    let foreign = sessions(Format::V4, &["another-secret"])
        .encode(&json!({}))
        .unwrap();
    let input = format!("{token}\ngarbage\n{foreign}\ntheme=dark; lang=en\n");
    let far_future = (NOW + 31 * 24 * 3600).to_string();
    let out = run(Some(SECRET), &["--now", &far_future], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        lines(&out),
        [
            json!({"error": "expired"}),
            json!({"error": "malformed"}),
            json!({"error": "undecryptable"}),
            json!({"error": "no-session"}),
        ]
    );
}

#[test]
fn format_flags_restrict_what_is_read() {
    let v4 = sessions(Format::V4, &[SECRET])
        .encode(&json!({"n": 4}))
        .unwrap();
    let v5 = sessions(Format::V5, &[SECRET])
        .encode(&json!({"n": 5}))
        .unwrap();
    let now = NOW.to_string();
    let input = format!("{v4}\n{v5}\n");
    let only_v4 = lines(&run(
        Some(SECRET),
        &["--v4", "--now", &now],
        input.as_bytes(),
    ));
    assert_eq!(only_v4[0]["n"], 4);
    assert!(only_v4[1].get("error").is_some());
    let only_v5 = lines(&run(
        Some(SECRET),
        &["--v5", "--now", &now],
        input.as_bytes(),
    ));
    assert!(only_v5[0].get("error").is_some());
    assert_eq!(only_v5[1]["n"], 5);
    let both = run(Some(SECRET), &["--now", &now], input.as_bytes());
    assert_eq!(both.status.code(), Some(0));
}

#[test]
fn a_hundred_thousand_lines_in_one_run() {
    let token = sessions(Format::V5, &[SECRET])
        .encode(&json!({"i": 1}))
        .unwrap();
    let mut input = String::new();
    for i in 0..100_000 {
        if i % 10 == 9 {
            input.push_str("garbage\n");
        } else {
            input.push_str(&token);
            input.push('\n');
        }
    }
    let out = run(Some(SECRET), &["--now", &NOW.to_string()], input.as_bytes());
    let text = String::from_utf8(out.stdout).unwrap();
    let all: Vec<&str> = text.lines().collect();
    assert_eq!(all.len(), 100_000);
    assert!(all[0].contains("\"i\":1"));
    assert_eq!(all[99_999], r#"{"error":"malformed"}"#);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn no_secret_is_a_clear_error() {
    let out = run(None, &[], b"x\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEXTAUTH_SECRET"));
    let bad = run(Some(SECRET), &["--bogus"], b"");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn non_utf8_lines_are_malformed_not_a_panic() {
    let out = run(Some(SECRET), &[], b"\xff\xfe\xfd\nCookie: a=\x01\x02\n");
    assert_eq!(
        lines(&out),
        [json!({"error": "malformed"}), json!({"error": "malformed"})]
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inspect_matches_the_libraries_on_their_own_tokens() {
    let cases: Value = serde_json::from_str(&fixture("nextauth_cases.json")).unwrap();
    for name in ["v4_plain", "v5_plain"] {
        let case = cases["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let secret = case["secrets"][0].as_str().unwrap();
        let input = format!(
            "{}\n{}\n",
            case["token"].as_str().unwrap(),
            case["headers"]["cookie"].as_str().unwrap()
        );
        let out = run(
            Some(secret),
            &["--now", &case["now"].to_string()],
            input.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{name}");
        let got = lines(&out);
        assert_eq!(got[0], case["expected"], "{name}: token line");
        assert_eq!(got[1], case["expected"], "{name}: cookie line");
    }
}
