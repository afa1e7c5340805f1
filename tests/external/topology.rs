//! The deployment shapes of README "Where the Rust service lives", proven against next-auth's own
//! request handlers (`interop/topology.mjs`: next-auth@4 `AuthHandler`, @auth/core `Auth`, each
//! with a Credentials provider for one fixed user), for v4 and v5, with a random secret per run:
//! - another port (Next on `http://localhost:3000`, Rust on `http://localhost:4000`): our
//!   sign-in redirect's `callbackUrl` goes through their sign-in page and credentials POST and
//!   brings the user back to the Rust route only with the README's `redirect` callback (without
//!   it, next-auth sends them to its own origin); their session cookie then reads in our layer;
//! - subdomain (`https://app.example.com` and `https://api.example.com`): their session cookie
//!   with `Domain=.example.com` reads in our layer, and ours written with `cookie_domain` has
//!   their attributes and decodes in their `getToken` / `decode`.
//!
//! Everything runs in-process or in Node on loopback: the host names are only strings.
//! Needs Node and `npm ci --prefix interop`; fails (never skips) without them.

use http::header::LOCATION;
use http::{HeaderMap, StatusCode};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};
use tower_nextauth::{AuthLayer, Builder, Claims, Format};

use crate::support::{cookie_headers, fmt, get, interop_batch, pair, session_cookie_name, strings};

/// The user the Credentials provider of `interop/topology.mjs` accepts.
const USER_ID: &str = "42";
const USER_NAME: &str = "Zoë Topology";
const USER_EMAIL: &str = "zoe@example.com";

fn node(requests: &[Value]) -> Vec<Value> {
    interop_batch("topology.mjs", requests)
}

fn secret() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

/// One Next.js app as `topology.mjs` configures next-auth.
struct NextApp<'a> {
    format: Format,
    secret: &'a str,
    app_url: &'a str,
    /// The extra origin the README's `redirect` callback allows; `None` keeps next-auth's default
    /// callback.
    allow: Option<&'a str>,
    /// next-auth's `cookies` option, as given.
    cookies: Value,
}

impl NextApp<'_> {
    /// The browser's sign-in on next-auth: GET `signin_url` (our `Location`), GET `/csrf`, POST
    /// `callback/credentials` with `callback_url`.
    fn signin(&self, signin_url: &str, callback_url: &str) -> Value {
        json!({
            "op": "signin",
            "format": fmt(self.format),
            "secret": self.secret,
            "app_url": self.app_url,
            "allow": self.allow,
            "cookies": self.cookies,
            "signin_url": signin_url,
            "callback_url": callback_url,
        })
    }
}

/// The `callbackUrl` query parameter of a sign-in `Location`, decoded as next-auth decodes it.
fn callback_url_of(location: &str) -> String {
    let (_, query) = location.split_once('?').expect("a query");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "callbackUrl")
        .expect("a callbackUrl")
        .1
        .into_owned()
}

/// The `Set-Cookie` lines of an answer, as text.
fn lines(answer: &Value) -> Vec<String> {
    serde_json::from_value(answer["set_cookie"].clone()).unwrap()
}

/// The one line of `set` for cookie `name`.
fn line_for<'a>(set: &'a [String], name: &str) -> &'a str {
    let found: Vec<&String> = set
        .iter()
        .filter(|l| pair(l).split_once('=').unwrap().0 == name)
        .collect();
    assert_eq!(found.len(), 1, "one {name} cookie in {set:#?}");
    found[0]
}

/// The cookie's value, percent-decoded as `cookie.parse` does.
fn value_of(line: &str) -> String {
    let (_, value) = pair(line).split_once('=').unwrap();
    form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

/// The claims the layer hands the handler (`Token<Claims>`, echoed by `support::echo`).
async fn claims_in_handler(layer: &AuthLayer, cookie: &str) -> Value {
    let res = get(
        layer,
        "/rs/me",
        &[("accept", "text/html"), ("cookie", cookie)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.headers());
    serde_json::from_str(res.body()).expect("the handler saw a Token")
}

fn assert_user(claims: &Value) {
    assert_eq!(claims["sub"], USER_ID, "{claims}");
    assert_eq!(claims["name"], USER_NAME, "{claims}");
    assert_eq!(claims["email"], USER_EMAIL, "{claims}");
    assert!(claims["exp"].is_i64() && claims["iat"].is_i64(), "{claims}");
}

// ---- Another port ----

const APP: &str = "http://localhost:3000";
const SERVICE: &str = "http://localhost:4000";

async fn another_port(format: Format) {
    let secret = secret();
    let layer = Builder::new()
        .secret(&secret)
        .format(format)
        .url(APP)
        .unwrap()
        .service_url(SERVICE)
        .unwrap()
        .build()
        .unwrap();

    // 1. Anonymous: our 307 to next-auth's sign-in, with an absolute callbackUrl on :4000.
    let res = get(&layer, "/rs/me", &[("accept", "text/html")]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "http://localhost:3000/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%3A4000%2Frs%2Fme"
    );
    let callback_url = callback_url_of(&location);
    assert_eq!(callback_url, "http://localhost:4000/rs/me");

    // 2. Their sign-in, with the README's `redirect` callback and with next-auth's default one.
    let readme = NextApp {
        format,
        secret: &secret,
        app_url: APP,
        allow: Some(SERVICE),
        cookies: Value::Null,
    };
    let default = NextApp {
        allow: None,
        cookies: Value::Null,
        ..readme
    };
    let answers = node(&[
        readme.signin(&location, &callback_url),
        default.signin(&location, &callback_url),
    ]);
    let (with, without) = (&answers[0], &answers[1]);
    let prefix = match format {
        Format::V4 => "next-auth",
        _ => "authjs",
    };
    let callback_cookie = format!("{prefix}.callback-url");
    let session = session_cookie_name(format, false);

    // Their sign-in page accepts our Location and keeps the callbackUrl its `redirect` allows.
    assert_eq!(with["signin_page"]["status"], 200, "{with:#}");
    assert_eq!(
        value_of(line_for(&lines(&with["signin_page"]), &callback_cookie)),
        "http://localhost:4000/rs/me"
    );
    // The credentials POST sends the browser back to the Rust route, with a session cookie.
    assert_eq!(with["callback"]["status"], 302, "{with:#}");
    assert_eq!(with["callback"]["location"], "http://localhost:4000/rs/me");
    let set = lines(&with["callback"]);
    let theirs = line_for(&set, &session);
    assert!(
        !theirs.contains("Domain="),
        "host-only by default: {theirs}"
    );

    // 3. Their cookie, sent by the browser to :4000 (same host), reads in our layer.
    let claims = claims_in_handler(&layer, pair(theirs)).await;
    assert_user(&claims);

    // 4. Without the README's callback, next-auth sends the user to its own origin instead.
    assert_eq!(
        value_of(line_for(&lines(&without["signin_page"]), &callback_cookie)),
        "http://localhost:3000"
    );
    assert_eq!(without["callback"]["status"], 302, "{without:#}");
    assert_eq!(without["callback"]["location"], "http://localhost:3000");
}

#[tokio::test]
async fn another_port_v4_round_trips_through_next_auth_sign_in() {
    another_port(Format::V4).await;
}

#[tokio::test]
async fn another_port_v5_round_trips_through_auth_core_sign_in() {
    another_port(Format::V5).await;
}

// ---- Subdomain ----

const SUB_APP: &str = "https://app.example.com";
const SUB_SERVICE: &str = "https://api.example.com";
const DOMAIN: &str = ".example.com";

/// next-auth's `cookies.sessionToken` for the subdomain shape: the default name and options
/// (`core/lib/cookie.js` / `lib/utils/cookie.js` `defaultCookies(true)`) plus the `domain`.
/// next-auth@4 spreads `cookies` over its defaults one level deep (`core/init.js`), so the whole
/// `sessionToken` entry has to be spelled out; see [`v4_needs_the_whole_session_token_entry`].
fn subdomain_cookies(format: Format) -> Value {
    json!({
        "sessionToken": {
            "name": session_cookie_name(format, true),
            "options": {"httpOnly": true, "sameSite": "lax", "path": "/", "secure": true, "domain": DOMAIN},
        }
    })
}

/// A `Set-Cookie` line's attributes after `name=value`, without `Expires` (a clock reading).
fn attributes(line: &str) -> Vec<&str> {
    line.split("; ")
        .skip(1)
        .filter(|a| !a.starts_with("Expires="))
        .collect()
}

async fn subdomain(format: Format) {
    let secret = secret();
    let layer = Builder::new()
        .secret(&secret)
        .format(format)
        .url(SUB_APP)
        .unwrap()
        .service_url(SUB_SERVICE)
        .unwrap()
        .cookie_domain(DOMAIN)
        .build()
        .unwrap();
    let name = session_cookie_name(format, true);
    assert_eq!(
        layer.sessions().cookie_names().next().unwrap(),
        name,
        "https app URL: secure name"
    );

    let res = get(&layer, "/rs/me", &[("accept", "text/html")]).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "https://app.example.com/api/auth/signin?callbackUrl=https%3A%2F%2Fapi.example.com%2Frs%2Fme"
    );

    // Their sign-in writes the session cookie for the parent domain, under the default name.
    let app = NextApp {
        format,
        secret: &secret,
        app_url: SUB_APP,
        allow: Some(SUB_SERVICE),
        cookies: subdomain_cookies(format),
    };
    let [answer] = &node(&[app.signin(&location, &callback_url_of(&location))])[..] else {
        unreachable!()
    };
    assert_eq!(answer["callback"]["status"], 302, "{answer:#}");
    assert_eq!(
        answer["callback"]["location"],
        "https://api.example.com/rs/me"
    );
    let set = lines(&answer["callback"]);
    let theirs = line_for(&set, &name).to_owned();
    assert_eq!(
        attributes(&theirs),
        [
            "Domain=.example.com",
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=Lax"
        ],
        "{theirs}"
    );

    // The browser sends it to api.example.com: our layer reads it.
    let their_claims = claims_in_handler(&layer, pair(&theirs)).await;
    assert_user(&their_claims);

    // Ours, written with `cookie_domain`, carries exactly their attributes, in their order.
    let user = json!({
        "name": their_claims["name"],
        "email": their_claims["email"],
        "sub": their_claims["sub"],
    });
    let ours = strings(layer.sessions().sign_in(&HeaderMap::new(), &user).unwrap());
    assert_eq!(ours.len(), 1, "{ours:?}");
    let ours = &ours[0];
    assert_eq!(pair(ours).split_once('=').unwrap().0, name);
    assert_eq!(
        attributes(ours),
        attributes(&theirs),
        "ours: {ours}\ntheirs: {theirs}"
    );
    let expires = |l: &str| l.split("; ").filter(|a| a.starts_with("Expires=")).count();
    assert_eq!((expires(ours), expires(&theirs)), (1, 1));

    // ... and decodes in their getToken and decode with the claims our layer reads.
    let ours_read = Value::Object(
        layer
            .sessions()
            .read::<Claims>(&cookie_headers(pair(ours)))
            .unwrap()
            .into_claims(),
    );
    assert_user(&ours_read);
    let token = value_of(ours);
    let answers = node(&[
        json!({"op": "getToken", "format": fmt(format), "secret": secret, "secure": true, "cookie": pair(ours)}),
        json!({"op": "decode", "format": fmt(format), "secret": secret, "salt": name, "token": token}),
    ]);
    assert_eq!(answers[0]["claims"], ours_read, "getToken");
    assert_eq!(answers[1]["claims"], ours_read, "decode");
    // The handler sees the same claims from our cookie as from theirs.
    assert_eq!(claims_in_handler(&layer, pair(ours)).await, ours_read);
}

#[tokio::test]
async fn subdomain_v4_shares_the_session_with_next_auth() {
    subdomain(Format::V4).await;
}

#[tokio::test]
async fn subdomain_v5_shares_the_session_with_auth_core() {
    subdomain(Format::V5).await;
}

/// next-auth@4 `core/init.js` merges `cookies` one level deep (`{...defaultCookies(), ...cookies}`),
/// so `cookies: { sessionToken: { options: { domain } } }` alone loses the name and every default
/// option: the session cookie is written as `undefined=…` with no `Path`, `HttpOnly`, `Secure` or
/// `SameSite`. @auth/core (`lib/init.js`, `merge`) merges deeply, so there the `domain` alone is
/// enough.
#[test]
fn v4_needs_the_whole_session_token_entry() {
    let secret = secret();
    let partial = json!({"sessionToken": {"options": {"domain": DOMAIN}}});
    let requests: Vec<Value> = [Format::V4, Format::V5]
        .into_iter()
        .map(|format| {
            NextApp {
                format,
                secret: &secret,
                app_url: SUB_APP,
                allow: Some(SUB_SERVICE),
                cookies: partial.clone(),
            }
            .signin(
                "https://app.example.com/api/auth/signin",
                "https://api.example.com/rs/me",
            )
        })
        .collect();
    let answers = node(&requests);
    let v4 = lines(&answers[0]["callback"]);
    let broken = line_for(&v4, "undefined");
    assert_eq!(attributes(broken), ["Domain=.example.com"], "{broken}");
    let v5 = lines(&answers[1]["callback"]);
    let fine = line_for(&v5, &session_cookie_name(Format::V5, true));
    assert_eq!(
        attributes(fine),
        [
            "Domain=.example.com",
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=Lax"
        ]
    );
}
