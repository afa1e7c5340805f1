//! Rendering is generic over the service's body: rejections keep their bodies in every body type
//! that implements `render::FromBytes`, and `render::StatusOnly` renders into any `Default` body
//! without claiming a body it does not have.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Empty, Full};
use tower::{service_fn, Layer, ServiceExt};
use tower_nextauth::render::{FromBytes, StatusOnly};
use tower_nextauth::{AuthLayer, Builder, Decision};

use crate::support::SECRET;

fn layer() -> AuthLayer {
    Builder::new().secret(SECRET).build().unwrap()
}

/// Sends an anonymous API request and a browser request for a 403 through `layer` around a
/// handler answering with body type `B`, and returns both responses.
async fn rejections<B>(layer: &AuthLayer) -> (Response<B>, Response<B>)
where
    B: FromBytes + Default + Send + 'static,
{
    let svc = layer.clone().layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(B::default()))
    }));
    let api = svc
        .clone()
        .oneshot(Request::get("/api/me").body(()).unwrap())
        .await
        .unwrap();
    let forbidding = layer
        .clone()
        .authorized(|_req, _token| Decision::Forbidden)
        .layer(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(B::default()))
        }));
    let browser = forbidding
        .oneshot(Request::get("/dashboard").body(()).unwrap())
        .await
        .unwrap();
    (api, browser)
}

async fn bytes_of<B>(body: B) -> Bytes
where
    B: hyper::body::Body,
    B::Error: std::fmt::Debug,
{
    body.collect().await.unwrap().to_bytes()
}

fn assert_heads<B>(api: &Response<B>, browser: &Response<B>) {
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(api.headers()[WWW_AUTHENTICATE], "Bearer");
    assert_eq!(browser.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
}

const UNAUTHENTICATED: &[u8] = br#"{"error":"unauthenticated"}"#;

#[tokio::test]
async fn full_bytes_keeps_rejection_bodies() {
    let (api, browser) = rejections::<Full<Bytes>>(&layer()).await;
    assert_heads(&api, &browser);
    assert_eq!(bytes_of(api.into_body()).await, UNAUTHENTICATED);
    assert_eq!(bytes_of(browser.into_body()).await, "Forbidden");
}

#[tokio::test]
async fn strings_bytes_and_vecs_keep_rejection_bodies() {
    let (api, browser) = rejections::<String>(&layer()).await;
    assert_heads(&api, &browser);
    assert_eq!(api.into_body().as_bytes(), UNAUTHENTICATED);
    assert_eq!(browser.into_body(), "Forbidden");
    let (api, _) = rejections::<Bytes>(&layer()).await;
    assert_eq!(api.into_body(), UNAUTHENTICATED);
    let (api, _) = rejections::<Vec<u8>>(&layer()).await;
    assert_eq!(api.into_body(), UNAUTHENTICATED);
}

#[tokio::test]
async fn boxed_bodies_keep_rejection_bodies() {
    let (api, browser) = rejections::<BoxBody<Bytes, Infallible>>(&layer()).await;
    assert_heads(&api, &browser);
    assert_eq!(bytes_of(api.into_body()).await, UNAUTHENTICATED);
    assert_eq!(bytes_of(browser.into_body()).await, "Forbidden");
    let (api, _) = rejections::<UnsyncBoxBody<Bytes, std::io::Error>>(&layer()).await;
    assert_eq!(bytes_of(api.into_body()).await, UNAUTHENTICATED);
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_bodies_keep_rejection_bodies() {
    let (api, browser) = rejections::<axum::body::Body>(&layer()).await;
    assert_heads(&api, &browser);
    assert_eq!(bytes_of(api.into_body()).await, UNAUTHENTICATED);
    assert_eq!(bytes_of(browser.into_body()).await, "Forbidden");
}

#[cfg(feature = "tonic")]
#[tokio::test]
async fn tonic_bodies_keep_rejection_bodies() {
    let (api, browser) = rejections::<tonic::body::Body>(&layer()).await;
    assert_heads(&api, &browser);
    assert_eq!(bytes_of(api.into_body()).await, UNAUTHENTICATED);
    assert_eq!(bytes_of(browser.into_body()).await, "Forbidden");

    // A gRPC client gets grpc-status in an empty body of tonic's type.
    let svc = layer().layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(tonic::body::Body::default()))
    }));
    let req = Request::post("/greeter.Greeter/SayHello")
        .header(CONTENT_TYPE, "application/grpc")
        .body(())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert!(bytes_of(res.into_body()).await.is_empty());
}

#[tokio::test]
async fn custom_responses_from_authorized_keep_their_bodies() {
    let layer = layer().authorized(|_req, _token| {
        let mut res = Response::new(Bytes::from_static(b"teapot"));
        *res.status_mut() = StatusCode::IM_A_TEAPOT;
        Decision::Respond(res)
    });
    let svc = layer.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
    }));
    let res = svc
        .oneshot(Request::get("/dashboard").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(bytes_of(res.into_body()).await, "teapot");
}

#[tokio::test]
async fn status_only_sends_no_content_type_for_the_body_it_cannot_write() {
    let layer = layer().render(StatusOnly);
    let svc = layer.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
    }));
    let api = svc
        .clone()
        .oneshot(Request::get("/api/me").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert!(api.headers().get(CONTENT_TYPE).is_none());
    assert_eq!(api.headers()[WWW_AUTHENTICATE], "Bearer");
    let browser = svc
        .clone()
        .oneshot(Request::get("/dashboard").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        browser.headers()["location"],
        HeaderValue::from_static("/api/auth/signin?callbackUrl=%2Fdashboard")
    );
    // gRPC keeps its content type: the protocol requires it with grpc-status.
    let grpc = svc
        .oneshot(
            Request::post("/greeter.Greeter/SayHello")
                .header(CONTENT_TYPE, "application/grpc")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(grpc.headers()[CONTENT_TYPE], "application/grpc");
    assert_eq!(grpc.headers()["grpc-status"], "16");
}

#[tokio::test]
async fn render_and_authorized_compose_in_either_order() {
    async fn check<L>(layer: L)
    where
        L: Layer<
            tower::util::ServiceFn<
                fn(Request<()>) -> std::future::Ready<Result<Response<Empty<Bytes>>, Infallible>>,
            >,
        >,
        L::Service:
            tower::Service<Request<()>, Response = Response<Empty<Bytes>>, Error = Infallible>,
    {
        let res = layer
            .layer(service_fn(ok as fn(_) -> _))
            .oneshot(Request::get("/api/me").body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().get(CONTENT_TYPE).is_none());
    }
    check(
        layer()
            .render(StatusOnly)
            .authorized(|_req, token| token.is_some()),
    )
    .await;
    check(
        layer()
            .authorized(|_req, token| token.is_some())
            .render(StatusOnly),
    )
    .await;
}

fn ok(_req: Request<()>) -> std::future::Ready<Result<Response<Empty<Bytes>>, Infallible>> {
    std::future::ready(Ok(Response::new(Empty::new())))
}
