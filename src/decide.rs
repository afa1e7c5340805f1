//! Deciding one request: read its session, run `authorized`, and finish: let it through with its
//! token (and any refreshed cookies), or render the rejection.

use std::fmt;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE, VARY};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::authorize::Decision;
use crate::error::SessionError;
use crate::policy::Policy;
use crate::render::{Rejection, Render, RenderContext};
use crate::sessions::Sessions;
use crate::token::{Checked, Token};

/// What every service of one layer shares, behind one `Arc`: the session reader, the route
/// policy and the `authorized` predicate.
pub(crate) struct Shared<A> {
    sessions: Sessions,
    policy: Policy,
    authorize: A,
}

impl<A> Shared<A> {
    pub(crate) fn new(sessions: Sessions, policy: Policy, authorize: A) -> Self {
        Self {
            sessions,
            policy,
            authorize,
        }
    }

    /// The same configuration with another predicate.
    pub(crate) fn with<A2>(&self, authorize: A2) -> Shared<A2> {
        Shared::new(self.sessions.clone(), self.policy.clone(), authorize)
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    pub(crate) fn authorize(&self) -> &A {
        &self.authorize
    }

    /// Whether `request` passes untouched (matcher and skip list; see [`Policy::passes`]).
    pub(crate) fn passes<B>(&self, request: &Request<B>) -> bool {
        self.policy.passes(request.uri(), request.extensions())
    }

    /// Reads the session and, for a stale cookie with refresh on, its re-issued cookies.
    pub(crate) fn prepare<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        parts: &Parts,
    ) -> Prepared<C> {
        match self.sessions.read_found::<C>(&parts.headers) {
            Ok(found) => {
                let refresh = self.policy.update_age().and_then(|age| {
                    let (name, cookies) =
                        self.sessions.reissue_stale(&parts.headers, &found, age)?;
                    Some(Refresh {
                        name: name.to_owned(),
                        cookies,
                    })
                });
                Prepared {
                    token: Some(found.token),
                    error: None,
                    refresh,
                }
            }
            Err(error) => {
                #[cfg(feature = "tracing")]
                self.sessions.diagnose(&parts.headers, error);
                Prepared {
                    token: None,
                    error: Some(error),
                    refresh: None,
                }
            }
        }
    }

    /// Applies `decision`: `Ok` with the refresh to apply when the request may pass (its token is
    /// now in the extensions), or the rejection response, rendered by `render`.
    pub(crate) fn finish<C, B, R>(
        &self,
        parts: &mut Parts,
        prepared: Prepared<C>,
        decision: Decision,
        render: &R,
    ) -> Result<Option<Refresh>, Response<B>>
    where
        C: Clone + Send + Sync + 'static,
        R: Render<B>,
    {
        let unauthenticated = Rejection::Unauthenticated(match (prepared.error, &prepared.token) {
            (Some(error), _) => error,
            (None, Some(_)) => SessionError::Refused,
            (None, None) => SessionError::Missing,
        });
        let rejection = match decision {
            Decision::Allow => {
                match prepared.token {
                    Some(token) => {
                        parts.extensions.insert::<Token<C>>(token);
                    }
                    None => {
                        parts.extensions.insert(Checked);
                    }
                }
                return Ok(prepared.refresh);
            }
            Decision::Deny if prepared.token.is_some() => Rejection::Forbidden,
            Decision::Deny | Decision::Unauthenticated => unauthenticated,
            Decision::Forbidden => Rejection::Forbidden,
            Decision::Redirect(location) => {
                let mut res = Response::new(Bytes::new());
                *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                res.headers_mut().insert(LOCATION, location);
                return Err(rejected(parts, render.respond(res), Rejection::Custom));
            }
            Decision::Respond(response) => {
                return Err(rejected(parts, render.respond(response), Rejection::Custom));
            }
        };
        let rendered = render.render(parts, &rejection, &RenderContext::new(&self.policy));
        Err(rejected(parts, rendered, rejection))
    }
}

impl<A> fmt::Debug for Shared<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("sessions", &self.sessions)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Puts the typed reason into the response's extensions (and a `tracing` event).
fn rejected<B>(parts: &Parts, mut res: Response<B>, rejection: Rejection) -> Response<B> {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        reason = %rejection,
        method = %parts.method,
        path = parts.uri.path(),
        status = res.status().as_u16(),
        "tower-nextauth rejected a request"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = parts;
    res.extensions_mut().insert(rejection);
    res
}

/// A request's session, read before `authorized` runs.
pub(crate) struct Prepared<C> {
    token: Option<Token<C>>,
    error: Option<SessionError>,
    refresh: Option<Refresh>,
}

impl<C> Prepared<C> {
    /// The valid session, for `authorized`.
    pub(crate) fn token(&self) -> Option<&Token<C>> {
        self.token.as_ref()
    }
}

/// A re-issued session cookie set, appended to the inner service's response.
pub(crate) struct Refresh {
    /// The session cookie name: a `Set-Cookie` of the handler's for it wins.
    name: String,
    cookies: Vec<HeaderValue>,
}

impl Refresh {
    /// Appends the cookies to the inner service's response headers.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        // A handler that wrote the session itself (sign-in, sign-out) has the last word.
        let handler_wrote_session = headers
            .get_all(SET_COOKIE)
            .iter()
            .any(|value| value.as_bytes().starts_with(self.name.as_bytes()));
        if handler_wrote_session {
            return;
        }
        for cookie in self.cookies {
            headers.append(SET_COOKIE, cookie);
        }
        // A response that carries a session must never be stored by a shared cache and served
        // to someone else, whatever the handler said: next-auth marks its own session responses
        // `private, no-cache, no-store` (next-auth@4.24.15 core/routes/session.js).
        private_no_store(headers);
        vary_cookie(headers);
    }
}

/// `Cache-Control` with `public` removed and `private` and `no-store` present; the handler's
/// other directives stay.
fn private_no_store(headers: &mut HeaderMap) {
    let mut directives: Vec<String> = Vec::new();
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let name = directive.split('=').next().unwrap_or_default().trim();
            if !name.eq_ignore_ascii_case("public") {
                directives.push(directive.to_owned());
            }
        }
    }
    for needed in ["private", "no-store"] {
        if !directives.iter().any(|d| d.eq_ignore_ascii_case(needed)) {
            directives.push(needed.to_owned());
        }
    }
    let joined = directives.join(", ");
    // Rebuilt from visible ASCII pieces of valid header values.
    let value = HeaderValue::from_str(&joined)
        .unwrap_or_else(|_| HeaderValue::from_static("private, no-store"));
    headers.insert(CACHE_CONTROL, value);
}

/// Adds `Cookie` to `Vary`, unless it is there already or `Vary: *`.
fn vary_cookie(headers: &mut HeaderMap) {
    let covered = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|f| f == "*" || f.eq_ignore_ascii_case("cookie"))
        })
    });
    if !covered {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}
