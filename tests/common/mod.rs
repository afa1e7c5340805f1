//! Shared test plumbing: a trivial inner service and request helpers.
#![allow(dead_code)]

use std::convert::Infallible;

use http::{header, Request, Response};
use tower::{service_fn, Layer, Service, ServiceExt};
use tower_nextauth::{Claims, Token};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
/// A fixed "now" for every test: 2026-11-01T00:00:00Z.
pub const NOW: i64 = 1_793_491_200;

/// The inner service: echoes the session claims as JSON, or `anonymous`.
pub async fn echo(req: Request<String>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<Token<Claims>>() {
        Some(token) => serde_json::to_string(token.claims()).unwrap(),
        None => "anonymous".to_owned(),
    };
    Ok(Response::new(body))
}

/// Sends one GET through `layer` wrapped around [`echo`].
pub async fn get<L>(layer: &L, uri: &str, headers: &[(&str, &str)]) -> Response<String>
where
    L: Layer<tower::util::ServiceFn<fn(Request<String>) -> EchoFuture>>,
    L::Service: Service<Request<String>, Response = Response<String>, Error = Infallible>,
{
    let mut req = Request::get(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let svc = layer.layer(service_fn(echo_boxed as fn(Request<String>) -> EchoFuture));
    svc.oneshot(req.body(String::new()).unwrap()).await.unwrap()
}

pub type EchoFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Response<String>, Infallible>> + Send>,
>;

fn echo_boxed(req: Request<String>) -> EchoFuture {
    Box::pin(echo(req))
}

pub fn location(res: &Response<String>) -> &str {
    res.headers()[header::LOCATION].to_str().unwrap()
}

pub mod cases;

/// Runs `node interop/<script> <args>` with `stdin`, and returns its stdout. Fails loudly when
/// Node or the interop packages are missing: these tests are never skipped.
pub fn interop_node(script: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let interop = concat!(env!("CARGO_MANIFEST_DIR"), "/interop");
    assert!(
        std::path::Path::new(interop)
            .join("node_modules/next-auth")
            .exists(),
        "interop packages are not installed: run `npm ci --prefix interop` (CI does)"
    );
    let mut child = Command::new("node")
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
