//! A real tonic server and client on loopback, with `AuthLayer` in between.

#[allow(dead_code)]
#[path = "../src/main.rs"]
mod example;

use example::{SessionService, WhoAmIReply, WhoAmIRequest};
use serde_json::json;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tower_nextauth::{AuthLayer, Builder, Format};

const SECRET: &str = "integration-test-secret-0123456789abcdef";
/// A fixed "now": 2026-11-01T00:00:00Z.
const NOW: i64 = 1_793_491_200;

async fn serve() -> (String, AuthLayer) {
    let builder = || {
        Builder::new()
            .secret(SECRET)
            .format(Format::V5)
            .clock(|| NOW)
    };
    let minting = builder().build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = TcpIncoming::from(listener);
    let layer = example::auth_layer(builder());
    tokio::spawn(async move {
        Server::builder()
            .layer(layer)
            .add_service(SessionService)
            .serve_with_incoming(incoming)
            .await
            .unwrap();
    });
    (format!("http://{addr}"), minting)
}

async fn call(url: &str, method: &str, cookie: Option<&str>) -> Result<WhoAmIReply, tonic::Status> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = Request::new(WhoAmIRequest {});
    if let Some(cookie) = cookie {
        request
            .metadata_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    let path = format!("/demo.Session/{method}").parse().unwrap();
    grpc.unary(request, path, tonic_prost::ProstCodec::default())
        .await
        .map(tonic::Response::into_inner)
}

fn cookie(layer: &AuthLayer, role: &str) -> String {
    let jwe = layer
        .sessions()
        .encode(&json!({"name": "Ada", "role": role}))
        .unwrap();
    format!("theme=dark; authjs.session-token={jwe}")
}

#[tokio::test]
async fn no_cookie_is_unauthenticated() {
    let (url, _) = serve().await;
    let status = call(&url, "WhoAmI", None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_valid_session_cookie_reaches_the_handler() {
    let (url, layer) = serve().await;
    let reply = call(&url, "WhoAmI", Some(&cookie(&layer, "user")))
        .await
        .unwrap();
    assert_eq!(
        reply,
        WhoAmIReply {
            name: "Ada".into(),
            role: "user".into()
        }
    );
}

#[tokio::test]
async fn a_denied_role_is_permission_denied() {
    let (url, layer) = serve().await;
    let status = call(&url, "Admin", Some(&cookie(&layer, "user")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let reply = call(&url, "Admin", Some(&cookie(&layer, "admin")))
        .await
        .unwrap();
    assert_eq!(reply.role, "admin");
}

#[tokio::test]
async fn a_tampered_cookie_is_unauthenticated() {
    let (url, layer) = serve().await;
    let mut c = cookie(&layer, "admin");
    let last = c.pop().unwrap();
    c.push(if last == 'A' { 'B' } else { 'A' });
    let status = call(&url, "WhoAmI", Some(&c)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
