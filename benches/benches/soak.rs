//! Soak: many concurrent connections against a running quickstart with a mix of valid, expired,
//! tampered, garbage and oversized cookies, checking every status and the server's memory.
//!
//! ```text
//! bash scripts/soak.sh            # builds and starts the quickstart, then runs this for 60 s
//! cargo bench -p tower-nextauth-benches --bench soak -- --url http://127.0.0.1:3000 --pid <quickstart pid> [--secs 60] [--conns 256]
//! ```
//! Exits non-zero on any 5xx, any wrong status, a failed request, or memory growth.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tower_nextauth::{Builder, Format};

/// The quickstart's embedded development secret.
const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

struct Class {
    name: &'static str,
    path: &'static str,
    accept: &'static str,
    cookie: String,
    expect: StatusCode,
    count: AtomicU64,
    wrong: AtomicU64,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let Some(url) = arg("--url") else {
        eprintln!(
            "usage: cargo bench -p tower-nextauth-benches --bench soak -- --url URL --pid PID [--secs 60] [--conns 256]"
        );
        std::process::exit(2);
    };
    let pid: u32 = arg("--pid").and_then(|p| p.parse().ok()).expect("--pid");
    let secs: u64 = arg("--secs").and_then(|s| s.parse().ok()).unwrap_or(60);
    let conns: usize = arg("--conns").and_then(|s| s.parse().ok()).unwrap_or(256);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mint = |at: i64| {
        let layer = Builder::new()
            .secret(DEV_SECRET)
            .format(Format::V5)
            .clock(move || at)
            .build()
            .unwrap();
        let claims =
            json!({"name": "Soak", "email": "soak@example.com", "sub": "s", "role": "user"});
        format!(
            "authjs.session-token={}",
            layer.sessions().encode(&claims).unwrap()
        )
    };
    let valid = mint(now);
    let expired = mint(now - 40 * 24 * 3600);
    let mut tampered = valid.clone().into_bytes();
    let at = tampered.len() - 30;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let oversized = format!("authjs.session-token={}", "A".repeat(70 * 1024));
    let class = |name, path, accept, cookie: &str, expect| Class {
        name,
        path,
        accept,
        cookie: cookie.to_owned(),
        expect,
        count: AtomicU64::new(0),
        wrong: AtomicU64::new(0),
    };
    let classes = Arc::new(vec![
        class("valid", "/dashboard", "text/html", &valid, StatusCode::OK),
        class(
            "valid-api",
            "/api/me",
            "application/json",
            &valid,
            StatusCode::OK,
        ),
        class(
            "forbidden",
            "/admin",
            "text/html",
            &valid,
            StatusCode::FORBIDDEN,
        ),
        class(
            "expired",
            "/dashboard",
            "text/html",
            &expired,
            StatusCode::TEMPORARY_REDIRECT,
        ),
        class(
            "tampered",
            "/dashboard",
            "text/html",
            &tampered,
            StatusCode::TEMPORARY_REDIRECT,
        ),
        class(
            "garbage",
            "/dashboard",
            "text/html",
            "authjs.session-token=garbage.garbage",
            StatusCode::TEMPORARY_REDIRECT,
        ),
        class(
            "oversized",
            "/dashboard",
            "text/html",
            &oversized,
            StatusCode::TEMPORARY_REDIRECT,
        ),
        class(
            "no-cookie-api",
            "/api/me",
            "application/json",
            "",
            StatusCode::UNAUTHORIZED,
        ),
    ]);

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(conns)
        .build_http();
    let failures = Arc::new(AtomicU64::new(0));
    let server_errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let rss_start = rss_kib(pid);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        while Instant::now() < deadline {
            samples.push(rss_kib(pid));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        samples
    });
    let mut tasks = Vec::new();
    for worker in 0..conns {
        let (client, classes, url) = (client.clone(), classes.clone(), url.clone());
        let (failures, server_errors) = (failures.clone(), server_errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < deadline {
                let c = &classes[i % classes.len()];
                i += 1;
                let mut req = Request::get(format!("{url}{}", c.path)).header("accept", c.accept);
                if !c.cookie.is_empty() {
                    req = req.header("cookie", &c.cookie);
                }
                match client.request(req.body(Empty::new()).unwrap()).await {
                    Ok(res) => {
                        let status = res.status();
                        let _ = res.into_body().collect().await;
                        c.count.fetch_add(1, Ordering::Relaxed);
                        if status.is_server_error() {
                            server_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        if status != c.expect {
                            c.wrong.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let samples = sampler.await.unwrap();
    let rss_end = rss_kib(pid);
    let total: u64 = classes
        .iter()
        .map(|c| c.count.load(Ordering::Relaxed))
        .sum();
    println!(
        "soak: {secs} s, {conns} connections, {total} requests ({:.0}/s)",
        total as f64 / secs as f64
    );
    println!(
        "{:<14} {:>10} {:>8} {:>6}",
        "class", "requests", "expect", "wrong"
    );
    let mut wrong = 0;
    for c in classes.iter() {
        let w = c.wrong.load(Ordering::Relaxed);
        wrong += w;
        println!(
            "{:<14} {:>10} {:>8} {:>6}",
            c.name,
            c.count.load(Ordering::Relaxed),
            c.expect.as_u16(),
            w
        );
    }
    // Memory: after warm-up (the first quarter), RSS must not keep growing.
    let warm = samples.get(samples.len() / 4).copied().unwrap_or(rss_start);
    let max = samples.iter().copied().max().unwrap_or(0);
    println!("server RSS KiB: start {rss_start}, after warm-up {warm}, max {max}, end {rss_end}");
    let failed = failures.load(Ordering::Relaxed);
    let five = server_errors.load(Ordering::Relaxed);
    println!("5xx: {five}, wrong status: {wrong}, failed requests: {failed}");
    let grew = rss_end > warm + warm / 5 + 4096;
    if five > 0 || wrong > 0 || failed > 0 || grew || total == 0 {
        eprintln!("soak FAILED (memory grew: {grew})");
        std::process::exit(1);
    }
    println!("soak passed");
}
