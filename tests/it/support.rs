//! Helpers shared by the test modules of both binaries: `tests/it` declares this file as its
//! `support` module, and `tests/external/support.rs` includes it too. Nothing here needs Node or
//! Chromium.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};

use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Request, Response};
use serde::Serialize;
use tower::{service_fn, Layer, Service, ServiceExt};
use tower_nextauth::{AuthLayer, Builder, Claims, Format, Rejection, Sessions, Token};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
/// A fixed "now" for every test: 2026-11-01T00:00:00Z.
pub const NOW: i64 = 1_793_491_200;

// ---- Layers and sessions ----

/// A builder with [`SECRET`], `format` and the clock stopped at [`NOW`].
pub fn builder(format: Format) -> Builder {
    Builder::new().secret(SECRET).format(format).clock(|| NOW)
}

/// [`builder`], built.
pub fn layer(format: Format) -> AuthLayer {
    builder(format).build().unwrap()
}

/// The sessions of a layer with these secrets (newest first), `format` and the clock at [`NOW`].
pub fn sessions(format: Format, secrets: &[&str]) -> Sessions {
    Builder::new()
        .secrets(secrets)
        .format(format)
        .clock(|| NOW)
        .build()
        .unwrap()
        .sessions()
        .clone()
}

/// The `Cookie` header of a session holding `claims`, under the layer's (first) cookie name.
pub fn session_cookie<T: Serialize>(layer: &AuthLayer, claims: T) -> String {
    let sessions = layer.sessions();
    let name = sessions.cookie_names().next().unwrap();
    format!("{name}={}", sessions.encode(&claims).unwrap())
}

// ---- Requests through a layer ----

/// The future of a [`Handler`].
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response<String>, Infallible>> + Send>>;
/// An inner service, as a function pointer so that every layer wraps the same type.
pub type Handler = fn(Request<String>) -> HandlerFuture;

/// The inner service: echoes the session claims as JSON, or `anonymous`.
pub async fn echo(req: Request<String>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<Token<Claims>>() {
        Some(token) => serde_json::to_string(token.claims()).unwrap(),
        None => "anonymous".to_owned(),
    };
    Ok(Response::new(body))
}

fn echo_boxed(req: Request<String>) -> HandlerFuture {
    Box::pin(echo(req))
}

/// Sends `req` through `layer` wrapped around `handler`.
pub async fn send<L>(layer: &L, handler: Handler, req: Request<String>) -> Response<String>
where
    L: Layer<tower::util::ServiceFn<Handler>>,
    L::Service: Service<Request<String>, Response = Response<String>, Error = Infallible>,
{
    layer.layer(service_fn(handler)).oneshot(req).await.unwrap()
}

/// Sends one GET through `layer` wrapped around [`echo`].
pub async fn get<L>(layer: &L, uri: &str, headers: &[(&str, &str)]) -> Response<String>
where
    L: Layer<tower::util::ServiceFn<Handler>>,
    L::Service: Service<Request<String>, Response = Response<String>, Error = Infallible>,
{
    let mut req = Request::get(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(layer, echo_boxed, req.body(String::new()).unwrap()).await
}

pub fn location<B>(res: &Response<B>) -> &str {
    res.headers()[LOCATION].to_str().unwrap()
}

/// The [`Rejection`] the layer put on a response, if any.
pub fn rejection<B>(res: &Response<B>) -> Option<Rejection> {
    res.extensions().get::<Rejection>().copied()
}

/// Runs a future to completion on this thread, for synchronous tests and proptest bodies.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Next.js's skip list (`/api/auth`, `/_next`, `/favicon.ico`), by segment.
pub fn skipped(pathname: &str) -> bool {
    ["/api/auth", "/_next", "/favicon.ico"]
        .iter()
        .any(|p| pathname == *p || pathname.starts_with(&format!("{p}/")))
}

/// Sends one GET with `headers` to an axum router.
#[cfg(feature = "axum")]
pub async fn route(
    app: &axum::Router,
    target: &str,
    headers: &[(&str, &str)],
) -> Response<axum::body::Body> {
    let mut req = Request::get(target);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.clone()
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap()
}

// ---- Cookies ----

/// A request's headers with one `Cookie` header.
pub fn cookie_headers(cookie: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    h
}

/// The `name=value` pair a browser sends back for a `Set-Cookie` line (value as written).
pub fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// `Set-Cookie` values as text.
pub fn strs(values: &[HeaderValue]) -> Vec<&str> {
    values.iter().map(|v| v.to_str().unwrap()).collect()
}

/// `Set-Cookie` values as owned text.
pub fn strings(values: Vec<HeaderValue>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` lines of a response, in order.
pub fn set_cookies<B>(res: &Response<B>) -> Vec<&str> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

/// The `name=value` pairs of a Set-Cookie set, as a browser would send them back (cleared
/// cookies left out).
pub fn cookie_header<S: AsRef<[u8]>>(set: &[S]) -> String {
    set.iter()
        .map(|c| pair(std::str::from_utf8(c.as_ref()).unwrap()))
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

// ---- Keys, as next-auth derives them ----

pub fn hkdf(secret: &str, salt: &str, info: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt.as_bytes()), secret.as_bytes())
        .expand(info.as_bytes(), &mut out)
        .unwrap();
    out
}

/// next-auth@4's content key.
pub fn v4_key(secret: &str) -> Vec<u8> {
    hkdf(secret, "", "NextAuth.js Generated Encryption Key", 32)
}

/// @auth/core's content key for the default cookie name, `len` bytes (64 for A256CBC-HS512).
pub fn v5_key(secret: &str, len: usize) -> Vec<u8> {
    let salt = "authjs.session-token";
    hkdf(
        secret,
        salt,
        &format!("Auth.js Generated Encryption Key ({salt})"),
        len,
    )
}

/// A `dir` JWE around `plaintext` made by josekit (the independent encoder), with `enc` and extra
/// header members.
#[cfg(feature = "jose")]
pub fn josekit_jwe(
    key: &[u8],
    enc: &str,
    extra: &[(&str, serde_json::Value)],
    plaintext: &[u8],
) -> String {
    use josekit::jwe::{Dir, JweHeader};
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    for (name, value) in extra {
        header.set_claim(name, Some(value.clone())).unwrap();
    }
    let encrypter = Dir.encrypter_from_bytes(key).unwrap();
    josekit::jwe::serialize_compact(plaintext, &header, &encrypter).unwrap()
}

// ---- Committed fixtures ----

/// The text of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Cases minted by the real next-auth@4 / @auth/core (`interop/cases.mjs`), checked on our side.
pub mod cases {
    use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
    use serde::Deserialize;
    use tower::{service_fn, Layer, ServiceExt};
    use tower_nextauth::{AuthLayer, Builder, Claims, Format};

    #[derive(Debug, Deserialize)]
    pub struct Cases {
        pub cases: Vec<Case>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Case {
        pub name: String,
        pub format: String,
        pub secrets: Vec<String>,
        pub secure: bool,
        pub cookie_name: Option<String>,
        pub headers: std::collections::BTreeMap<String, String>,
        pub now: i64,
        pub expected: Option<serde_json::Value>,
        pub token: Option<String>,
    }

    impl Case {
        pub fn format(&self) -> Format {
            match self.format.as_str() {
                "v4" => Format::V4,
                "v5" => Format::V5,
                other => panic!("{}: unknown format {other}", self.name),
            }
        }

        pub fn layer(&self) -> AuthLayer {
            let now = self.now;
            let mut builder = Builder::new()
                .secrets(&self.secrets)
                .format(self.format())
                .secure_cookie(self.secure)
                .clock(move || now);
            if let Some(name) = &self.cookie_name {
                builder = builder.cookie_name(name);
            }
            builder.build().unwrap()
        }

        pub fn header_map(&self) -> HeaderMap {
            self.headers
                .iter()
                .map(|(k, v)| {
                    (
                        HeaderName::from_bytes(k.as_bytes()).unwrap(),
                        HeaderValue::from_str(v).unwrap(),
                    )
                })
                .collect()
        }

        /// Our reader and our layer must both give exactly what the library's `getToken` gave.
        pub async fn check(&self) {
            let layer = self.layer();
            let read = layer.sessions().read::<Claims>(&self.header_map());
            match (&self.expected, &read) {
                (Some(expected), Ok(token)) => assert_eq!(
                    &serde_json::Value::Object(token.claims().clone()),
                    expected,
                    "{}: claims differ from the library's",
                    self.name
                ),
                (None, Err(_)) => {}
                (expected, read) => panic!(
                    "{}: library gave {expected:?}, we gave {:?}",
                    self.name,
                    read.as_ref().map(|t| t.claims())
                ),
            }

            // The same request through the layer: allowed with the library's claims, or
            // redirected.
            let mut req = Request::get("/dashboard");
            for (k, v) in &self.headers {
                req = req.header(k, v);
            }
            let svc = layer.layer(service_fn(super::echo));
            let res = svc.oneshot(req.body(String::new()).unwrap()).await.unwrap();
            match &self.expected {
                Some(expected) => {
                    assert_eq!(res.status(), StatusCode::OK, "{}", self.name);
                    let body: serde_json::Value = serde_json::from_str(res.body()).unwrap();
                    assert_eq!(&body, expected, "{}", self.name);
                }
                None => assert_eq!(
                    res.status(),
                    StatusCode::TEMPORARY_REDIRECT,
                    "{}",
                    self.name
                ),
            }

            // The bare token decodes to the same claims.
            if let (Some(expected), Some(token)) = (&self.expected, &self.token) {
                let decoded = layer.sessions().decode::<Claims>(token).unwrap();
                assert_eq!(
                    &serde_json::Value::Object(decoded.into_claims()),
                    expected,
                    "{}",
                    self.name
                );
            }
        }
    }

    /// Runs every case and insists that the set is not trivially small or one-sided.
    pub async fn check_all(cases: &Cases) {
        assert!(cases.cases.len() >= 20, "only {} cases", cases.cases.len());
        let accepted = cases.cases.iter().filter(|c| c.expected.is_some()).count();
        assert!(
            accepted >= 8 && cases.cases.len() - accepted >= 8,
            "cases are one-sided"
        );
        for case in &cases.cases {
            case.check().await;
        }
    }
}

/// JWTs signed by the npm `jose` package (`interop/jose-jwt.mjs`), checked against
/// `jose::JwtDecoder`: the committed set (`tests/fixtures/jose_jwts.json`) and fresh ones.
#[cfg(feature = "jose")]
pub mod jwts {
    use serde::Deserialize;
    use tower_nextauth::jose::JwtDecoder;
    use tower_nextauth::{Builder, Claims, SessionError, Sessions, Token};

    #[derive(Deserialize)]
    pub struct Fixture {
        pub jwts: Vec<Jwt>,
    }

    #[derive(Deserialize)]
    pub struct Jwt {
        pub alg: String,
        pub secret: Option<String>,
        pub public_pem: Option<String>,
        pub jwks: Option<serde_json::Value>,
        pub now: i64,
        pub claims: serde_json::Value,
        pub valid_token: String,
        pub expired_token: String,
        pub tampered_token: String,
        pub wrong_key_token: String,
    }

    /// The committed set.
    pub fn committed() -> Fixture {
        serde_json::from_str(&super::fixture("jose_jwts.json")).unwrap()
    }

    pub fn sessions(decoder: JwtDecoder, now: i64) -> Sessions {
        Builder::new()
            .decoder(decoder)
            .clock(move || now)
            .build()
            .unwrap()
            .sessions()
            .clone()
    }

    fn decoders(jwt: &Jwt) -> Vec<(&'static str, JwtDecoder)> {
        match jwt.alg.as_str() {
            "HS256" => vec![(
                "secret",
                JwtDecoder::hs256(jwt.secret.as_ref().unwrap()).unwrap(),
            )],
            "HS384" => vec![(
                "secret",
                JwtDecoder::hs384(jwt.secret.as_ref().unwrap()).unwrap(),
            )],
            "HS512" => vec![(
                "secret",
                JwtDecoder::hs512(jwt.secret.as_ref().unwrap()).unwrap(),
            )],
            alg => {
                let pem = jwt.public_pem.as_ref().unwrap();
                let from_pem = match alg {
                    "RS256" => JwtDecoder::rs256_pem(pem),
                    "ES256" => JwtDecoder::es256_pem(pem),
                    "EdDSA" => JwtDecoder::eddsa_pem(pem),
                    other => panic!("unexpected alg {other}"),
                }
                .unwrap();
                let jwks = JwtDecoder::from_jwks(jwt.jwks.as_ref().unwrap().to_string()).unwrap();
                vec![("pem", from_pem), ("jwks", jwks)]
            }
        }
    }

    pub fn check(fixture: &Fixture) {
        let algs: Vec<&str> = fixture.jwts.iter().map(|j| j.alg.as_str()).collect();
        assert_eq!(algs, ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]);
        for jwt in &fixture.jwts {
            for (how, decoder) in decoders(jwt) {
                let s = sessions(decoder, jwt.now);
                let what = format!("{} from {how}", jwt.alg);
                let token: Token = s
                    .decode(&jwt.valid_token)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    serde_json::Value::Object(token.into_claims()),
                    jwt.claims,
                    "{what}"
                );
                let err = |t: &str| s.decode::<Claims>(t).unwrap_err();
                assert_eq!(err(&jwt.expired_token), SessionError::Expired, "{what}");
                assert_eq!(
                    err(&jwt.tampered_token),
                    SessionError::Undecryptable,
                    "{what}"
                );
                assert_eq!(
                    err(&jwt.wrong_key_token),
                    SessionError::Undecryptable,
                    "{what}"
                );
            }
        }
    }
}

// ---- Examples, as processes ----

/// The features examples are built with by [`build_example`].
pub const EXAMPLE_FEATURES: &str = "axum,tracing";

/// Builds `examples/<name>.rs` (with the features the examples need) and returns the binary.
/// Each example is built once per test process, whatever the features of the test build.
pub fn build_example(name: &str) -> PathBuf {
    build_example_with(name, EXAMPLE_FEATURES)
}

/// [`build_example`] with `features` (`axum,tracing,postgres` for the quickstart's database
/// sessions): a separate cargo invocation, so the test's own features do not matter.
pub fn build_example_with(name: &str, features: &str) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let key = format!("{name} --features {features}");
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(bin) = built.get(&key) {
        return bin.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--example",
            name,
            "--features",
            features,
        ])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo build --example {name} failed");
    let bin = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == name)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no executable for the example {name}"));
    built.insert(key, bin.clone());
    bin
}

/// A command for the example `name` (built first), without next-auth's variables (nor the
/// quickstart's `DATABASE_URL` and `ADMIN_EMAILS`) from the environment, so that only what the
/// test passes configures it.
pub fn example(name: &str) -> Command {
    example_with(name, EXAMPLE_FEATURES)
}

/// [`example`], built with `features`.
pub fn example_with(name: &str, features: &str) -> Command {
    let mut cmd = Command::new(build_example_with(name, features));
    cmd.env_remove("NEXTAUTH_SECRET")
        .env_remove("AUTH_SECRET")
        .env_remove("NEXTAUTH_URL")
        .env_remove("AUTH_URL")
        .env_remove("DATABASE_URL")
        .env_remove("ADMIN_EMAILS");
    cmd
}

/// The quickstart example, running on loopback; killed when dropped.
pub struct Server {
    child: Child,
    /// What the quickstart printed: `http://127.0.0.1:<port>`.
    pub url: String,
    /// The first line it printed, which holds the URL.
    pub banner: String,
}

impl Server {
    /// `127.0.0.1:<port>`.
    pub fn authority(&self) -> &str {
        self.url.strip_prefix("http://").unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the quickstart with `args` on a free port, with no next-auth variables from the
/// environment.
pub fn quickstart(args: &[&str]) -> Server {
    serve("quickstart", args, &[])
}

/// Starts the example `name` with `args` and `env` on a free port (`PORT=0`); it prints its URL,
/// `http://127.0.0.1:<port>`, on its first line.
pub fn serve(name: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
    serve_with(name, EXAMPLE_FEATURES, args, env)
}

/// [`serve`], the example built with `features`.
pub fn serve_with(name: &str, features: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = example_with(name, features)
        .args(args)
        .envs(env.iter().copied())
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // Owned by a `Server` first, so that the child is killed if the line is not what we expect.
    let mut server = Server {
        child,
        url: String::new(),
        banner: first.trim_end().to_owned(),
    };
    server.url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{name} printed {first:?}"))
        .trim_end_matches(['.', ','])
        .to_owned();
    server
}

/// A response read off the wire.
pub struct Reply {
    pub status: u16,
    /// The response headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookie(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One HTTP/1.1 exchange with `server` over a fresh connection, headers exactly as given (plus
/// `Host`).
pub fn http(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    http_at(server.authority(), method, path, headers, body)
}

/// [`http`] to `authority` (`127.0.0.1:<port>`), from any thread.
pub fn http_at(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    use std::io::{Read, Write};

    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}
