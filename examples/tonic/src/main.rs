//! A gRPC service behind `AuthLayer`, with tonic. The handler reads the session from
//! `request.extensions()`.
//!
//! ```text
//! NEXTAUTH_SECRET=… cargo run -p tower-nextauth-tonic-example   # demo.Session/WhoAmI on 127.0.0.1:50051
//! ```
//!
//! A browser-issued session cookie travels in the `cookie` metadata; a client without one gets
//! `Status::unauthenticated`, and a signed-in client without the `admin` role gets
//! `Status::permission_denied` from `demo.Session/Admin`. `tests/tonic.rs` (in this package,
//! `cargo test -p tower-nextauth-tonic-example`) runs this service against a real tonic client
//! on loopback.
//!
//! This is a workspace member of its own, so tonic and prost stay out of the root package's
//! dev-dependencies.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tower_nextauth::Token;

/// `demo.WhoAmIRequest {}`
#[derive(Clone, PartialEq, prost::Message)]
pub struct WhoAmIRequest {}

/// `demo.WhoAmIReply { string name = 1; string role = 2; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct WhoAmIReply {
    /// The session's `name` claim.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The session's `role` claim.
    #[prost(string, tag = "2")]
    pub role: String,
}

/// The `demo.Session` service: `WhoAmI` for any signed-in user, `Admin` for admins (the layer's
/// `authorized` enforces the role).
#[derive(Clone, Default)]
pub struct SessionService;

impl NamedService for SessionService {
    const NAME: &'static str = "demo.Session";
}

struct WhoAmI;

impl UnaryService<WhoAmIRequest> for WhoAmI {
    type Response = WhoAmIReply;
    type Future = std::future::Ready<Result<Response<WhoAmIReply>, Status>>;

    fn call(&mut self, request: Request<WhoAmIRequest>) -> Self::Future {
        // The layer put the decoded session here; tonic carries http extensions over.
        let reply = match request.extensions().get::<Token>() {
            Some(token) => Ok(Response::new(WhoAmIReply {
                name: token["name"].as_str().unwrap_or_default().to_owned(),
                role: token["role"].as_str().unwrap_or_default().to_owned(),
            })),
            None => Err(Status::unauthenticated("no session")),
        };
        std::future::ready(reply)
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl tower::Service<http::Request<Body>> for SessionService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> BoxFuture {
        match req.uri().path() {
            "/demo.Session/WhoAmI" | "/demo.Session/Admin" => Box::pin(async move {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(WhoAmI, req).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// The layer for this service: a session for every method, `role == "admin"` for `Admin`.
pub fn auth_layer(
    builder: tower_nextauth::Builder,
) -> tower_nextauth::AuthLayer<tower_nextauth::Claims, impl tower_nextauth::Authorize + Clone> {
    builder
        .build()
        .expect("valid configuration")
        .authorized(|req, token| match (req.uri.path(), token) {
            (_, None) => false,
            ("/demo.Session/Admin", Some(t)) => t["role"] == "admin",
            (_, Some(_)) => true,
        })
}

#[allow(dead_code)] // `tests/tonic.rs` includes this file for the service alone.
#[tokio::main]
async fn main() {
    let mut builder = tower_nextauth::Builder::from_env();
    if std::env::var("NEXTAUTH_SECRET").is_err() && std::env::var("AUTH_SECRET").is_err() {
        eprintln!("WARNING: no NEXTAUTH_SECRET/AUTH_SECRET set; using the development secret");
        builder = builder.secret("tower-nextauth-quickstart-development-secret");
    }
    let addr = "127.0.0.1:50051".parse().unwrap();
    println!("tonic example listening on {addr}");
    tonic::transport::Server::builder()
        .layer(auth_layer(builder))
        .add_service(SessionService)
        .serve(addr)
        .await
        .unwrap();
}
