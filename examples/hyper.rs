//! A plain hyper 1 server, no framework, guarded by `AuthLayer` through `tower::ServiceBuilder`.
//!
//! ```text
//! NEXTAUTH_SECRET=… cargo run --example hyper            # listens on 127.0.0.1:3001
//! cargo run --example hyper -- --no-auth                 # the same service without the layer
//! ```
//!
//! Every path answers `hello <name>` from the session's `name` claim. Without a secret it uses
//! the embedded development secret of the quickstart (and says so). `PORT` sets the port.
//! `--mint` prints a valid v5 session cookie for that secret and exits, for load tests.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_nextauth::{Builder, Token};

const DEV_SECRET: &str = "tower-nextauth-quickstart-development-secret";

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = req
        .extensions()
        .get::<Token>()
        .and_then(|t| t["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "anonymous".to_owned());
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {name}\n"
    )))))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has_secret = ["NEXTAUTH_SECRET", "AUTH_SECRET"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    let mut builder = Builder::from_env();
    if !has_secret {
        eprintln!("WARNING: no NEXTAUTH_SECRET/AUTH_SECRET set; using the development secret");
        builder = builder.secret(DEV_SECRET);
    }
    let auth = builder.build().expect("valid configuration");

    if args.iter().any(|a| a == "--mint") {
        let jwe = auth
            .sessions()
            .encode(&serde_json::json!({"name": "Load Test", "email": "load@example.com"}))
            .expect("claims are an object");
        println!("{}={jwe}", auth.sessions().cookie_names().next().unwrap());
        return;
    }

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let with_auth = !args.iter().any(|a| a == "--no-auth");
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
                let svc = ServiceBuilder::new().layer(auth).service_fn(hello);
                builder
                    .serve_connection(io, TowerToHyperService::new(svc))
                    .await
            } else {
                let svc = ServiceBuilder::new().service_fn(hello);
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
