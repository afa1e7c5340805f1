//! Deciding one request: read its session, run `authorized`, and finish: let it through with its
//! token (and any refreshed cookies), or render the rejection.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE, VARY};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::authorize::Decision;
use crate::cache::Tag;
use crate::callback::{BoxFuture, Failure, Jwt, Outcome, Stage};
#[cfg(feature = "postgres")]
use crate::database::{Database, DatabaseError, DbSession};
use crate::error::SessionError;
use crate::policy::Policy;
use crate::render::{Rejection, Render, RenderContext};
use crate::sessions::Sessions;
use crate::token::{Checked, Claims, Token};
#[cfg(feature = "postgres")]
use crate::token::{Times, TokenSource};

/// What every service of one layer shares, behind one `Arc`: the session reader, the route
/// policy and the `authorized` predicate.
pub(crate) struct Shared<A> {
    sessions: Sessions,
    policy: Policy,
    /// Behind its own `Arc`, so that [`AuthLayer::jwt`](crate::AuthLayer::jwt) can wrap it
    /// without cloning the predicate.
    authorize: Arc<A>,
    /// The `jwt` callback, if one is set.
    jwt: Option<Stage>,
    /// Database sessions (next-auth's `database` strategy), if set: the session cookie holds a
    /// session token to look up, not a JWT.
    #[cfg(feature = "postgres")]
    database: Option<Database>,
}

impl<A> Shared<A> {
    pub(crate) fn new(sessions: Sessions, policy: Policy, authorize: A) -> Self {
        Self {
            sessions,
            policy,
            authorize: Arc::new(authorize),
            jwt: None,
            #[cfg(feature = "postgres")]
            database: None,
        }
    }

    /// The same configuration with another predicate.
    pub(crate) fn with<A2>(&self, authorize: A2) -> Shared<A2> {
        self.with_arc(Arc::new(authorize))
    }

    fn with_arc<A2>(&self, authorize: Arc<A2>) -> Shared<A2> {
        Shared {
            sessions: self.sessions.clone(),
            policy: self.policy.clone(),
            authorize,
            jwt: self.jwt.clone(),
            #[cfg(feature = "postgres")]
            database: self.database.clone(),
        }
    }

    /// The same configuration with the predicate wrapped by `wrap` and this `jwt` stage.
    pub(crate) fn with_jwt<A2>(
        &self,
        wrap: impl FnOnce(Arc<A>) -> Arc<A2>,
        jwt: Stage,
    ) -> Shared<A2> {
        Shared {
            jwt: Some(jwt),
            ..self.with_arc(wrap(self.authorize.clone()))
        }
    }

    /// The same configuration with the predicate wrapped by `wrap`, reading database sessions
    /// from `database`.
    #[cfg(feature = "postgres")]
    pub(crate) fn with_database<A2>(
        &self,
        wrap: impl FnOnce(Arc<A>) -> Arc<A2>,
        database: Database,
    ) -> Shared<A2> {
        Shared {
            database: Some(database),
            ..self.with_arc(wrap(self.authorize.clone()))
        }
    }

    pub(crate) fn jwt(&self) -> Option<&Stage> {
        self.jwt.as_ref()
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
        // Database sessions are looked up in `stage`; a request that gets here has no session
        // cookie (a JWT or a Bearer token is no database session).
        #[cfg(feature = "postgres")]
        if self.database.is_some() {
            return Prepared {
                token: None,
                error: Some(SessionError::Missing),
                refresh: None,
            };
        }
        match self.sessions.read_found::<C>(&parts.headers) {
            Ok(found) => {
                let refresh = self.policy.update_age().and_then(|age| {
                    let (name, cookies) =
                        self.sessions.reissue_stale(&parts.headers, &found, age)?;
                    Some(Refresh {
                        name: name.to_owned(),
                        cookies,
                        on_rejection: false,
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

    /// With a `jwt` callback, and a session in the request's cookies: the callback's run for that
    /// session (started now, in progress, or finished within the window), to be finished by
    /// [`prepare_staged`](Self::prepare_staged). `None` otherwise: [`prepare`](Self::prepare)
    /// reads the request as it is.
    pub(crate) fn stage(&self, parts: &Parts) -> Option<BoxFuture<Staged>> {
        #[cfg(feature = "postgres")]
        if let Some(database) = &self.database {
            let (tag, token) = self.sessions.raw_session_cookie(&parts.headers)?;
            let (database, token) = (database.clone(), token.into_owned());
            return Some(Box::pin(async move {
                let outcome = database.session(&token).await;
                Staged::Database { tag, outcome }
            }));
        }
        let jwt = self.jwt.as_ref()?;
        let found = self.sessions.read_cookie::<Claims>(&parts.headers).ok()?;
        let tag = found.tag;
        let value = self.sessions.cookie_value(tag, &parts.headers)?;
        let sessions = self.sessions.clone();
        let token = found.token;
        let run = jwt.flights.run(&value, || {
            let call = jwt.call(parts, token);
            async move {
                match call.await {
                    Ok(Jwt::Keep) => Ok(Outcome::Keep),
                    Ok(Jwt::SignOut) => Ok(Outcome::SignOut),
                    Ok(Jwt::Update(claims)) => match sessions.encode_at(tag, &claims) {
                        Ok((token, expires)) => Ok(Outcome::Update {
                            token: token.into(),
                            expires,
                        }),
                        Err(error) => Err(Failure(error.to_string().into())),
                    },
                    Err(error) => Err(Failure(error.to_string().into())),
                }
            }
        });
        Some(Box::pin(async move {
            Staged::Jwt {
                tag,
                outcome: run.await,
            }
        }))
    }

    /// The request's session after its `jwt` callback run.
    pub(crate) fn prepare_staged<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        parts: &Parts,
        staged: Staged,
    ) -> Prepared<C> {
        let none = |error, refresh| Prepared {
            token: None,
            error: Some(error),
            refresh,
        };
        let (tag, outcome) = match staged {
            Staged::Jwt { tag, outcome } => (tag, outcome),
            #[cfg(feature = "postgres")]
            Staged::Database { tag, outcome } => return self.prepare_database(parts, tag, outcome),
        };
        match outcome {
            Ok(Outcome::Keep) => self.prepare(parts),
            Ok(Outcome::Update { token, expires }) => {
                let refresh = self
                    .sessions
                    .cookies_at(tag, &parts.headers, &token, expires)
                    .map(|(name, cookies)| Refresh {
                        name: name.to_owned(),
                        cookies,
                        on_rejection: true,
                    });
                match self.sessions.decode_at::<C>(tag, &token) {
                    Ok(token) => Prepared {
                        token: Some(token),
                        error: None,
                        refresh,
                    },
                    // The new claims do not fit `C`: no session, but the cookie is still the
                    // one the callback wrote.
                    Err(error) => none(error, refresh),
                }
            }
            Ok(Outcome::SignOut) => {
                let refresh = Refresh {
                    // Matches no cookie name: a handler's own `Set-Cookie` never cancels it.
                    name: String::new(),
                    cookies: self.sessions.sign_out(&parts.headers),
                    on_rejection: true,
                };
                none(SessionError::SignedOut, Some(refresh))
            }
            Err(Failure(_reason)) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(reason = %_reason, "tower-nextauth: the jwt callback failed");
                none(SessionError::Unavailable, None)
            }
        }
    }

    /// A database session's lookup, as next-auth's session route treats it: a session (its
    /// cookie re-issued when the lookup extended it), none (its cookies cleared), or a database
    /// that did not answer (no session, 503 where one is needed; cookies kept).
    #[cfg(feature = "postgres")]
    fn prepare_database<C: DeserializeOwned + Send + Sync + 'static>(
        &self,
        parts: &Parts,
        tag: Tag,
        outcome: Result<Option<DbSession>, DatabaseError>,
    ) -> Prepared<C> {
        let none = |error, refresh| Prepared {
            token: None,
            error: Some(error),
            refresh,
        };
        let session = match outcome {
            Ok(Some(session)) => session,
            Ok(None) => {
                let refresh = Refresh {
                    name: String::new(),
                    cookies: self.sessions.sign_out(&parts.headers),
                    on_rejection: true,
                };
                return none(SessionError::Missing, Some(refresh));
            }
            // The store logs the outage (once).
            Err(_) => return none(SessionError::Unavailable, None),
        };
        let exp = session.extended().unwrap_or(session.expires());
        let claims = match serde_json::from_value::<C>(session.claims()) {
            Ok(claims) => claims,
            Err(_) => return none(SessionError::Malformed, None),
        };
        let times = Times {
            exp: Some(exp as f64),
            nbf: None,
            iat: None,
        };
        let token = Token::new(claims, times, None, TokenSource::Cookie);
        let refresh = session.extended().and_then(|expires| {
            let (_, value) = self.sessions.raw_session_cookie(&parts.headers)?;
            let (name, cookies) = self
                .sessions
                .cookies_at(tag, &parts.headers, &value, expires)?;
            Some(Refresh {
                name: name.to_owned(),
                cookies,
                on_rejection: false,
            })
        });
        Prepared {
            token: Some(token),
            error: None,
            refresh,
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
        let unavailable = prepared.error == Some(SessionError::Unavailable);
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
            // A session that could not be checked is not "no session": a sign-in redirect
            // would loop while the cookie is valid.
            Decision::Deny | Decision::Unauthenticated if unavailable => Rejection::Unavailable,
            Decision::Deny | Decision::Unauthenticated => unauthenticated,
            Decision::Forbidden => Rejection::Forbidden,
            Decision::Redirect(location) => {
                let mut res = Response::new(Bytes::new());
                *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                res.headers_mut().insert(LOCATION, location);
                let res = render.respond(res);
                return Err(rejected(parts, res, Rejection::Custom, prepared.refresh));
            }
            Decision::Respond(response) => {
                let res = render.respond(response);
                return Err(rejected(parts, res, Rejection::Custom, prepared.refresh));
            }
        };
        let rendered = render.render(parts, &rejection, &RenderContext::new(&self.policy));
        Err(rejected(parts, rendered, rejection, prepared.refresh))
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

/// Puts the typed reason into the response's extensions (and a `tracing` event), and the cookies
/// a `jwt` callback wrote (a new session, or a sign-out) into its headers.
fn rejected<B>(
    parts: &Parts,
    mut res: Response<B>,
    rejection: Rejection,
    refresh: Option<Refresh>,
) -> Response<B> {
    if let Some(refresh) = refresh.filter(|r| r.on_rejection) {
        refresh.apply(res.headers_mut());
    }
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

/// The async stage's result for one request's session: the cookie source it was read from, and
/// the `jwt` callback run's result or the database lookup's.
pub(crate) enum Staged {
    Jwt {
        tag: Tag,
        outcome: Result<Outcome, Failure>,
    },
    /// A database session's lookup.
    #[cfg(feature = "postgres")]
    Database {
        tag: Tag,
        outcome: Result<Option<DbSession>, DatabaseError>,
    },
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
    /// Whether a rejection carries them too: the cookies of a `jwt` callback (a new session, or
    /// a sign-out) do; a sliding refresh only goes with a response the handler made.
    on_rejection: bool,
}

impl Refresh {
    /// Appends the cookies to the inner service's response headers.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        // A handler that wrote the session itself (sign-in, sign-out) has the last word.
        let handler_wrote_session = !self.name.is_empty()
            && headers
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
