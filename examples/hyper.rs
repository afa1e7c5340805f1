//! A plain hyper 1 server, no framework, guarded by `AuthLayer` through `tower::ServiceBuilder`.
//!
//! ```text
//! NEXTAUTH_SECRET=… cargo run --example hyper            # listens on 127.0.0.1:3001
//! cargo run --example hyper -- --no-auth                 # the same service without the layer
//! cargo run --example hyper -- --no-cache                # the layer, decrypting every request
//! cargo run --example hyper -- --no-auth --burn 700      # bare, plus ~1 µs of busy work a request
//! ```
//!
//! Every path answers `hello <name>` from the session's `name` claim. Without a secret it uses
//! the embedded development secret of the quickstart (and says so). `PORT` sets the port.
//!
//! `--burn N` makes the handler spin N rounds of a multiply-add chain (about 1.4 ns each here)
//! before answering: `scripts/load.sh`'s control mode, bare hyper costing as much CPU a request
//! as the layer without doing any of its work, to tell what the layer does to latency from what
//! any extra CPU does to a saturated server.
//!
//! `--mint [N]` prints N (default 1) valid session cookies for that secret, one `name=value` per
//! line, and exits, for load tests (`scripts/load.sh`, `scripts/rss.sh`). Every session is
//! distinct (its own `sub`, `name`, `email` and `jti`) and carries ~270 bytes of claims before
//! `iat`/`exp`/`jti`, the size the README's decode figures use.

use std::convert::Infallible;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_nextauth::{Builder, Sessions, Token};

const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

async fn hello(req: Request<Incoming>, burn: u32) -> Result<Response<Full<Bytes>>, Infallible> {
    // A dependent chain the optimiser cannot fold away (`black_box`), so the cost is per round.
    let mut x = 1u64;
    for _ in 0..burn {
        x = std::hint::black_box(x.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1));
    }
    std::hint::black_box(x);
    let name = req
        .extensions()
        .get::<Token>()
        .and_then(|t| t["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "anonymous".to_owned());
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {name}\n"
    )))))
}

const USAGE: &str = "usage: hyper [--no-auth | --no-cache] [--burn N] | hyper --mint [N]";

/// What the command line asks for.
struct Args {
    /// `--mint [N]`: print N cookies and exit.
    mint: Option<usize>,
    /// `--no-auth`: serve without the layer.
    no_auth: bool,
    /// `--no-cache`: the layer without its cache of verified sessions (every request decrypts).
    no_cache: bool,
    /// `--burn N`: spin N rounds in the handler (a control for load tests).
    burn: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut parsed = Args {
        mint: None,
        no_auth: false,
        no_cache: false,
        burn: 0,
    };
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-auth" => parsed.no_auth = true,
            "--no-cache" => parsed.no_cache = true,
            "--burn" => {
                let n = args.next().ok_or("--burn takes a count")?;
                parsed.burn = n
                    .parse()
                    .map_err(|_| format!("--burn takes a count, not {n:?}"))?;
            }
            "--mint" => {
                let n = match args.next_if(|a| !a.starts_with("--")) {
                    Some(n) => n
                        .parse()
                        .map_err(|_| format!("--mint takes a count, not {n:?}"))?,
                    None => 1,
                };
                parsed.mint = Some(n);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// Writes `n` distinct session cookies, one `name=value` per line.
fn mint(sessions: &Sessions, n: usize) -> std::io::Result<()> {
    let name = sessions.cookie_names().next().expect("a cookie name");
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for i in 0..n {
        let mut claims = serde_json::json!({
            "name": format!("Load Test {i:07}"),
            "email": format!("load.test.{i:07}@example.com"),
            "picture": format!("https://avatars.example.com/u/{i:07}.png?size=96"),
            "sub": format!("user-{i:07}"),
            "role": "member",
        });
        // Pad to ~270 bytes of claims JSON, as in the README's decode figures.
        let len = claims.to_string().len();
        claims["org"] = "x".repeat(270usize.saturating_sub(len + 10)).into();
        let jwe = sessions.encode(&claims).expect("claims are an object");
        writeln!(out, "{name}={jwe}")?;
    }
    out.flush()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("hyper: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let has_secret = ["NEXTAUTH_SECRET", "AUTH_SECRET"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    let mut builder = Builder::from_env();
    if !has_secret {
        eprintln!("WARNING: no NEXTAUTH_SECRET/AUTH_SECRET set; using the development secret");
        builder = builder.secret(DEV_SECRET);
    }
    if args.no_cache {
        builder = builder.session_cache(0, 0);
    }
    let auth = builder.build().expect("valid configuration");

    if let Some(n) = args.mint {
        return match mint(auth.sessions(), n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(2), // stdout closed
        };
    }

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let with_auth = !args.no_auth;
    let burn = args.burn;
    println!(
        "hyper example listening on http://{addr} ({})",
        if with_auth {
            "with AuthLayer"
        } else {
            "without AuthLayer"
        }
    );

    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        let io = TokioIo::new(stream);
        let auth = auth.clone();
        tokio::spawn(async move {
            // HTTP/1.1 only (wrk speaks nothing else), so the examples need no h2.
            let builder = http1::Builder::new();
            let result = if with_auth {
                let svc = ServiceBuilder::new()
                    .layer(auth)
                    .service_fn(move |req| hello(req, burn));
                builder
                    .serve_connection(io, TowerToHyperService::new(svc))
                    .await
            } else {
                let svc = ServiceBuilder::new().service_fn(move |req| hello(req, burn));
                builder
                    .serve_connection(io, TowerToHyperService::new(svc))
                    .await
            };
            if let Err(err) = result {
                eprintln!("connection error: {err}");
            }
        });
    }
}
