//! Route-level policy: which requests the layer handles (the Next.js matcher, the base path and
//! `withAuth`'s skip list), what kind of client sent them, and where sign-in redirects go.

use std::borrow::Cow;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE};
use http::request::Parts;
use http::{Extensions, HeaderValue, Method, Uri};

use crate::error::ConfigError;
use crate::matcher::Matcher;
use crate::pathname::{self, Forms};
use crate::token::whole_seconds;

/// How the built-in skip list (the auth path, `/_next`, `/favicon.ico`) matches request paths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipMode {
    /// A skip entry covers itself and the paths below it: `/api/auth` skips `/api/auth/session`
    /// but not `/api/authors`.
    #[default]
    Segment,
    /// `withAuth`'s plain `startsWith` (next-auth 4.24.15, `next/middleware.js`): `/api/authors`,
    /// `/_nextdata` and `/favicon.ico.bak` are skipped too, and so are left unprotected. For exact
    /// parity only.
    Prefix,
}

/// Whether `callbackUrl` is relative (`withAuth`) or absolute (v5 `auth()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackUrl {
    /// `callbackUrl=/path?query`, as next-auth v4's `withAuth` writes it.
    #[default]
    Relative,
    /// `callbackUrl=https://app.example.com/path?query`, as next-auth v5 writes it, with the
    /// origin of the configured URL (never the request's `Host`). Without a configured URL it
    /// falls back to the relative form.
    Absolute,
}

/// The kind of client a request comes from, as the default renderer tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Client {
    /// A browser navigation: gets redirected to sign-in.
    Browser,
    /// An API call (`/api/*`, `Accept: application/json`, `X-Requested-With`, or a method other
    /// than GET/HEAD): gets `401`/`403` with a small JSON body.
    Api,
    /// A gRPC call (`content-type: application/grpc*`): gets HTTP 200 with `grpc-status`.
    Grpc,
}

/// The route settings a [`Builder`](crate::Builder) collects, with next-auth's defaults.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) matcher: Option<Vec<String>>,
    pub(crate) base_path: String,
    pub(crate) sign_in_page: String,
    pub(crate) error_page: String,
    pub(crate) skip: SkipMode,
    pub(crate) strict: bool,
    pub(crate) api_paths: Vec<String>,
    pub(crate) callback_url: CallbackUrl,
    /// This service's own origin, when it is not the Next.js app's.
    pub(crate) service_origin: Option<String>,
    pub(crate) update_age: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            matcher: None,
            base_path: String::new(),
            sign_in_page: "/api/auth/signin".into(),
            error_page: "/api/auth/error".into(),
            skip: SkipMode::default(),
            strict: false,
            api_paths: vec!["/api".into()],
            callback_url: CallbackUrl::Relative,
            service_origin: None,
            update_age: None,
        }
    }
}

/// Route-level settings, fixed when the layer is built.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    /// Next.js `config.matcher`: requests it does not cover pass untouched.
    matcher: Option<Matcher>,
    base_path: String,
    /// The auth routes (`NEXTAUTH_URL`'s path, default `/api/auth`), skipped.
    auth_path: String,
    sign_in_page: String,
    error_page: String,
    skip: SkipMode,
    /// The configured app URL's origin: the only origin a `Location` is built on.
    origin: Option<String>,
    strict: bool,
    /// Sliding sessions: re-issue cookies whose `iat` is at least this many seconds old.
    update_age: Option<i64>,
    /// Path prefixes whose requests are API calls (401 instead of a redirect).
    api_paths: Vec<String>,
    callback_url: CallbackUrl,
    /// The origin `callbackUrl` points at when this service is not on the app's origin.
    service_origin: Option<String>,
}

impl Policy {
    /// Checks `options` and compiles the matcher under the base path. `app` is the configured
    /// app URL's origin and path, when there is one.
    pub(crate) fn new(options: Options, app: Option<(&str, &str)>) -> Result<Self, ConfigError> {
        for (what, path) in [
            ("Builder::base_path", &options.base_path),
            ("Builder::sign_in_page", &options.sign_in_page),
            ("Builder::error_page", &options.error_page),
        ] {
            let valid = (path.is_empty() && what == "Builder::base_path") || path.starts_with('/');
            if !valid || !path.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::InvalidPath {
                    what,
                    value: path.clone(),
                });
            }
        }
        if options.service_origin.is_some() && app.is_none() {
            return Err(ConfigError::ServiceUrlWithoutAppUrl);
        }
        let matcher = match &options.matcher {
            Some(sources) => Some(
                Matcher::with_base_path(sources, &options.base_path)
                    .map_err(ConfigError::InvalidMatcher)?,
            ),
            None => None,
        };
        Ok(Self {
            matcher,
            base_path: options.base_path,
            auth_path: app.map_or("/api/auth", |(_, path)| path).to_owned(),
            sign_in_page: options.sign_in_page,
            error_page: options.error_page,
            skip: options.skip,
            origin: app.map(|(origin, _)| origin.to_owned()),
            strict: options.strict,
            update_age: options.update_age.map(whole_seconds),
            api_paths: options.api_paths,
            callback_url: options.callback_url,
            service_origin: options.service_origin,
        })
    }

    /// Whether every denial is `withAuth`'s 307 ([`Builder::strict_with_auth`](crate::Builder::strict_with_auth)).
    pub(crate) fn strict(&self) -> bool {
        self.strict
    }

    /// How old a session must be to be re-issued, when sliding refresh is on.
    pub(crate) fn update_age(&self) -> Option<i64> {
        self.update_age
    }

    /// The Next.js `pathname`: the path without the `basePath`.
    pub(crate) fn pathname<'a>(&self, path: &'a str) -> &'a str {
        if self.base_path.is_empty() {
            return path;
        }
        match path.strip_prefix(self.base_path.as_str()) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => path,
        }
    }

    /// Whether a request passes untouched: not covered by the matcher, or on the skip list.
    ///
    /// The one place that decides, and it fails closed. The matcher is written for the full
    /// path, so it reads the URI before an enclosing router stripped a prefix (axum's
    /// `OriginalUri`) and the path as this service sees it, each in every form of [`Forms`]: as
    /// sent, as Next.js parses it (percent-encoded, dot segments resolved), and with runs of
    /// slashes collapsed. The request is covered when the matcher covers *any* form (a regex that
    /// gives up, or a path past [`Matcher::MAX_PATH_LEN`], covers), and skipped only when *every*
    /// form is on the skip list. A spelling the router and Next.js read differently can
    /// therefore only add protection.
    pub(crate) fn passes(&self, uri: &Uri, extensions: &Extensions) -> bool {
        let path = uri.path();
        let original = request_uri(uri, extensions).path();
        if original == path && pathname::is_sole_form(path) {
            // The common case: `path` is its only form, so `Forms` need not be built.
            return self.passes_forms(path, || std::iter::once(path));
        }
        let primary = Forms::of(original);
        let secondary = (original != path).then(|| Forms::of(path));
        self.passes_forms(path, || {
            primary.iter().chain(secondary.iter().flat_map(Forms::iter))
        })
    }

    /// [`passes`](Self::passes) for the spellings `forms` gives (each call, all of them again).
    fn passes_forms<'f, I>(&self, path: &str, forms: impl Fn() -> I) -> bool
    where
        I: Iterator<Item = &'f str>,
    {
        #[cfg(not(feature = "tracing"))]
        let _ = path;
        if let Some(m) = &self.matcher {
            if !forms().any(|form| m.is_match(form)) {
                #[cfg(feature = "tracing")]
                tracing::trace!(path, "tower-nextauth: not matched, passing through");
                return true;
            }
        }
        let skipped = forms().all(|form| self.skips(form));
        #[cfg(feature = "tracing")]
        if skipped {
            tracing::trace!(path, "tower-nextauth: on the skip list, passing through");
        }
        skipped
    }

    /// `withAuth`'s step 1: requests that pass without any session work (docs/compat.md#skip-list).
    fn skips(&self, path: &str) -> bool {
        let pathname = self.pathname(path);
        // `${basePath}${pathname}` is the request path itself, unless the path lacked the base.
        let full = if self.base_path.is_empty() || !std::ptr::eq(pathname, path) {
            std::borrow::Cow::Borrowed(path)
        } else {
            std::borrow::Cow::Owned(format!("{}{}", self.base_path, pathname))
        };
        self.covers(&full, &self.auth_path)
            || pathname == self.sign_in_page
            || pathname == self.error_page
            || self.covers(pathname, "/_next")
            || self.covers(pathname, "/favicon.ico")
    }

    pub(crate) fn covers(&self, path: &str, prefix: &str) -> bool {
        match self.skip {
            SkipMode::Prefix => path.starts_with(prefix),
            SkipMode::Segment => match path.strip_prefix(prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
        }
    }

    /// The kind of client, by the rules in [`Client`].
    pub(crate) fn client(&self, request: &Parts) -> Client {
        let header = |name| request.headers.get(name).map(HeaderValue::as_bytes);
        if header(CONTENT_TYPE).is_some_and(|ct| starts_with_ignore_case(ct, b"application/grpc")) {
            return Client::Grpc;
        }
        let pathname = self.pathname(request_uri(&request.uri, &request.extensions).path());
        let api_path = self.api_paths.iter().any(|p| self.covers(pathname, p));
        let accept = header(ACCEPT).unwrap_or_default();
        let wants_json = contains_ignore_case(accept, b"application/json")
            && !contains_ignore_case(accept, b"text/html");
        let fetch = header(http::HeaderName::from_static("x-requested-with")).is_some()
            || !(request.method == Method::GET || request.method == Method::HEAD);
        if api_path || wants_json || fetch {
            Client::Api
        } else {
            Client::Browser
        }
    }

    /// `new URL(basePath + signInPage, origin)` with `callbackUrl = basePath + pathname + search`
    /// appended, as `withAuth` builds it (docs/compat.md#callback-url).
    ///
    /// The origin is the configured URL's, never the request's `Host`: a `Host`-derived absolute
    /// URL would let a forged header redirect the browser elsewhere. Without a configured URL the
    /// `Location` is path-absolute, which the browser resolves against the origin it used.
    ///
    /// The path and query are the original request's (axum's `OriginalUri`, when a router
    /// stripped a prefix), so the user comes back to the page they asked for.
    pub(crate) fn sign_in_location(&self, request: &Parts) -> HeaderValue {
        let uri = request_uri(&request.uri, &request.extensions);
        let path = uri.path();
        let pathname = same_origin_path(self.pathname(path));
        let mut location = String::with_capacity(128 + path.len());
        if let Some(origin) = &self.origin {
            location.push_str(origin);
        }
        location.push_str(&self.base_path);
        location.push_str(&self.sign_in_page);
        location.push(if self.sign_in_page.contains('?') {
            '&'
        } else {
            '?'
        });
        location.push_str("callbackUrl=");
        // Back to this service when it has its own origin; otherwise v5's absolute form on the
        // app's origin, or `withAuth`'s relative one.
        let callback_origin = match (&self.service_origin, self.callback_url) {
            (Some(service), _) => Some(service),
            (None, CallbackUrl::Absolute) => self.origin.as_ref(),
            (None, _) => None,
        };
        if let Some(origin) = callback_origin {
            form_urlencode(&mut location, origin);
        }
        form_urlencode(&mut location, &self.base_path);
        form_urlencode(&mut location, &pathname);
        if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
            form_urlencode(&mut location, "?");
            form_urlencode(&mut location, query);
        }
        // Every byte outside the unreserved set was percent-encoded above, and the configured
        // parts were validated at build time, so this cannot fail or inject a header.
        HeaderValue::from_str(&location).expect("Location is visible ASCII")
    }
}

/// The URI the request was sent to: axum's `OriginalUri` when an enclosing router stripped a
/// prefix (`Router::nest`), otherwise the request's own.
fn request_uri<'a>(uri: &'a Uri, extensions: &'a Extensions) -> &'a Uri {
    #[cfg(feature = "axum")]
    if let Some(original) = crate::extract::original_uri(extensions) {
        return original;
    }
    let _ = extensions;
    uri
}

/// The request path made safe to send back as a relative `callbackUrl`: always rooted, and a
/// leading run of `/` and `\` becomes one `/`, so `//evil.com` and `/\evil.com` cannot turn into
/// protocol-relative URLs on a sign-in page that navigates to `callbackUrl` as given.
/// Authority-form (`host:port`) and asterisk-form (`*`) targets get rooted too.
fn same_origin_path(path: &str) -> Cow<'_, str> {
    let trimmed = path.trim_start_matches(['/', '\\']);
    let start = path.len() - trimmed.len();
    if start == 1 && path.starts_with('/') {
        return Cow::Borrowed(path);
    }
    if start > 0 && path.as_bytes()[start - 1] == b'/' {
        Cow::Borrowed(&path[start - 1..])
    } else {
        Cow::Owned(format!("/{trimmed}"))
    }
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `URLSearchParams` serialization (application/x-www-form-urlencoded): `*-._` and alphanumerics
/// stay, a space becomes `+`, every other byte is `%XX` (the WHATWG URL spec's
/// `application/x-www-form-urlencoded` serializer, which `form_urlencoded` implements).
pub(crate) fn form_urlencode(out: &mut String, input: &str) {
    out.extend(form_urlencoded::byte_serialize(input.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urlencoding_matches_url_search_params() {
        let mut out = String::new();
        form_urlencode(&mut out, "/dashboard?x=1&y=a%20b c*~");
        assert_eq!(out, "%2Fdashboard%3Fx%3D1%26y%3Da%2520b+c*%7E");
    }

    #[test]
    fn leading_slash_runs_collapse() {
        assert_eq!(same_origin_path("/dashboard"), "/dashboard");
        assert_eq!(same_origin_path("/"), "/");
        assert_eq!(same_origin_path("//evil.com/x"), "/evil.com/x");
        assert_eq!(same_origin_path("///evil.com"), "/evil.com");
        assert_eq!(same_origin_path("/\\evil.com"), "/evil.com");
        assert_eq!(same_origin_path("/\\/\\evil.com"), "/evil.com");
        assert_eq!(same_origin_path(""), "/");
        assert_eq!(same_origin_path("*"), "/*");
        assert_eq!(same_origin_path("\\/evil.com"), "/evil.com");
    }
}
