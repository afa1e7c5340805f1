//! Decode NextAuth session tokens from stdin: a debugging tool, and a black-box interface.
//!
//! ```text
//! NEXTAUTH_SECRET=… cargo run --example inspect [-- --v4 | --v5] [--cookie-name NAME] [--now UNIX_SECONDS]
//! ```
//!
//! Each input line is a token or a whole `Cookie:` header value (a line with `=` in it; an
//! optional `Cookie:` prefix is dropped). For each line it prints one line of compact JSON: the
//! claims, or `{"error":"<reason>"}` with reason `expired`, `undecryptable`, `malformed` or
//! `no-session`. Blank lines are skipped. Exit status: 0 when every line decoded, 1 otherwise,
//! 2 for a usage or configuration error.
//!
//! The secret comes from `NEXTAUTH_SECRET` / `AUTH_SECRET` (and `AUTH_SECRET_1..3`). Keys are
//! derived once, so 100k lines cost one start-up.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use tower_nextauth::{Builder, Claims, Format, SessionError, Sessions};

const USAGE: &str = "usage: inspect [--v4 | --v5] [--cookie-name NAME] [--now UNIX_SECONDS] < lines
  reads tokens or Cookie header values from stdin, one per line; secret from NEXTAUTH_SECRET/AUTH_SECRET";

fn main() -> ExitCode {
    // Every line is a different token: the layer's cache of verified sessions would only add an
    // insert (and a copy of the claims) per line.
    let mut builder = Builder::from_env().either_prefix(true).session_cache(0, 0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        builder = match arg.as_str() {
            "--v4" => builder.format(Format::V4),
            "--v5" => builder.format(Format::V5),
            "--cookie-name" => match args.next() {
                Some(name) => builder.cookie_name(name),
                None => return usage("--cookie-name needs a value"),
            },
            "--now" => match args.next().and_then(|n| n.parse::<i64>().ok()) {
                Some(now) => builder.clock(move || now),
                None => return usage("--now needs a number of seconds since the Unix epoch"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        };
    }
    let sessions = match builder.build() {
        Ok(layer) => layer.sessions().clone(),
        Err(err) => {
            eprintln!("inspect: {err}");
            return ExitCode::from(2);
        }
    };

    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut all_ok = true;
    for line in stdin.split(b'\n') {
        let Ok(line) = line else { break };
        let line = trim(&line);
        if line.is_empty() {
            continue;
        }
        let result = decode_line(&sessions, line);
        all_ok &= result.is_ok();
        let written = match result {
            Ok(claims) => serde_json::to_writer(&mut out, &claims).map_err(std::io::Error::from),
            Err(error) => write!(out, r#"{{"error":"{}"}}"#, error.as_str()),
        };
        if written.and_then(|()| out.write_all(b"\n")).is_err() {
            return ExitCode::from(2); // stdout closed
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn decode_line(sessions: &Sessions, line: &[u8]) -> Result<Claims, SessionError> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(SessionError::Malformed);
    };
    let text = match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("cookie:") => text[7..].trim(),
        _ => text,
    };
    if text.contains('=') {
        let value = HeaderValue::from_str(text).map_err(|_| SessionError::Malformed)?;
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(COOKIE, value);
        sessions.read::<Claims>(&headers).map(|t| t.into_claims())
    } else {
        sessions.decode::<Claims>(text).map(|t| t.into_claims())
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &line[start..end.max(start)]
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("inspect: {problem}\n{USAGE}");
    ExitCode::from(2)
}
