//! next-auth's environment: `NEXTAUTH_SECRET` / `AUTH_SECRET` / `AUTH_SECRET_1..3` and
//! `NEXTAUTH_URL` / `AUTH_URL` with each version's precedence, and the app URL's checks.

use std::borrow::Cow;
use std::fmt;

use http::Uri;

use super::Format;
use crate::error::ConfigError;

/// Secret bytes; `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Secret(pub(super) Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// The environment as next-auth reads it, captured by [`Builder::from_env`].
#[derive(Clone, Default)]
pub(super) struct Env {
    nextauth_secret: Option<String>,
    auth_secret: Option<String>,
    numbered: [Option<String>; 3],
    nextauth_url: Option<String>,
    auth_url: Option<String>,
    pub(super) vercel: bool,
}

/// The parts of `NEXTAUTH_URL` the middleware uses (next-auth's `parseUrl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Url {
    pub(super) https: bool,
    pub(super) origin: String,
    pub(super) path: String,
}

impl Url {
    /// next-auth's `parseUrl`, stricter: a value without a scheme gets `https://` as upstream
    /// does (next-auth@4.24.15 utils/parse-url.js), but any other scheme (`ftp:`, `javascript:`),
    /// user info, or a missing host is refused instead of being read as a host name.
    pub(super) fn parse(raw: &str, from: &'static str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidUrl {
            from,
            value: redact_userinfo(raw),
        };
        let with_scheme = if has_scheme(raw) {
            Cow::Borrowed(raw)
        } else {
            Cow::Owned(format!("https://{raw}"))
        };
        let uri: Uri = with_scheme.parse().map_err(|_| invalid())?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(invalid()),
        };
        let authority = uri.authority().ok_or_else(invalid)?;
        if authority.host().is_empty() || authority.as_str().contains('@') {
            return Err(invalid());
        }
        let path = match uri.path().trim_end_matches('/') {
            "" => "/api/auth".to_owned(),
            path => path.to_owned(),
        };
        Ok(Self {
            https,
            // `new URL(..).origin` lowercases the host.
            origin: format!(
                "{}://{}",
                if https { "https" } else { "http" },
                authority.as_str().to_ascii_lowercase()
            ),
            path,
        })
    }
}

/// Whether `raw` starts with a URL scheme (`https:`, `ftp:`, `javascript:`) rather than a host,
/// optionally with a port (`localhost:3000`, `[::1]:8080`).
fn has_scheme(raw: &str) -> bool {
    let head = raw.split(['/', '?', '#']).next().unwrap_or_default();
    if head.starts_with('[') {
        return false;
    }
    match head.rsplit_once(':') {
        Some((_, port)) => port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// `raw` with the user info of its authority (`user:password@`) replaced by `***`, for messages.
fn redact_userinfo(raw: &str) -> String {
    let authority_start = if !has_scheme(raw) {
        0
    } else {
        match raw.split_once(':') {
            Some((scheme, rest)) if rest.starts_with("//") => scheme.len() + 3,
            _ => return raw.to_owned(),
        }
    };
    let rest = &raw[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..authority_start], &rest[at..]),
        None => raw.to_owned(),
    }
}

impl Env {
    /// Reads the variables with `var`; empty values count as unset.
    pub(super) fn read(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        Self {
            nextauth_secret: get("NEXTAUTH_SECRET"),
            auth_secret: get("AUTH_SECRET"),
            numbered: [
                get("AUTH_SECRET_1"),
                get("AUTH_SECRET_2"),
                get("AUTH_SECRET_3"),
            ],
            nextauth_url: get("NEXTAUTH_URL"),
            auth_url: get("AUTH_URL"),
            vercel: get("VERCEL").is_some(),
        }
    }

    /// The app URL for `primary`, with the variable it came from.
    pub(super) fn url(&self, primary: Format) -> Option<(&'static str, &str)> {
        let nextauth_url = self.nextauth_url.as_deref().map(|v| ("NEXTAUTH_URL", v));
        let auth_url = self.auth_url.as_deref().map(|v| ("AUTH_URL", v));
        // next-auth v4 reads NEXTAUTH_URL only (next-auth@4.24.15 next/middleware.js); v5 falls
        // back to it (next-auth@5.0.0-beta.32 lib/env.js).
        match primary {
            Format::V4 => nextauth_url,
            Format::V5 => auth_url.or(nextauth_url),
        }
    }

    /// The secrets for `primary`, newest first.
    pub(super) fn secrets(&self, primary: Format) -> Vec<Secret> {
        let single = match primary {
            Format::V4 => self.nextauth_secret.as_ref().or(self.auth_secret.as_ref()),
            Format::V5 => self.auth_secret.as_ref().or(self.nextauth_secret.as_ref()),
        };
        match single {
            Some(secret) => vec![Secret(secret.as_bytes().to_vec())],
            // next-auth v5 only reads the numbered secrets when AUTH_SECRET is unset, and unshifts
            // them, so AUTH_SECRET_3 ends up first and encrypts (@auth/core@0.41.3 lib/utils/self.js).
            None if primary == Format::V5 => self
                .numbered
                .iter()
                .rev()
                .flatten()
                .map(|s| Secret(s.as_bytes().to_vec()))
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> Env {
        Env::read(move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn numbered_secrets_only_without_auth_secret() {
        assert_eq!(
            env(&[("AUTH_SECRET_1", "one"), ("AUTH_SECRET_3", "three")]).secrets(Format::V5),
            [Secret(b"three".to_vec()), Secret(b"one".to_vec())]
        );
        assert_eq!(
            env(&[("AUTH_SECRET", "main"), ("AUTH_SECRET_1", "one")]).secrets(Format::V5),
            [Secret(b"main".to_vec())]
        );
        assert_eq!(
            env(&[("AUTH_SECRET", "a"), ("NEXTAUTH_SECRET", "n")]).secrets(Format::V4),
            [Secret(b"n".to_vec())]
        );
    }

    #[test]
    fn url_parsing_follows_parse_url() {
        let url = Url::parse("example.com/custom/auth/", "NEXTAUTH_URL").unwrap();
        assert_eq!(
            url,
            Url {
                https: true,
                origin: "https://example.com".into(),
                path: "/custom/auth".into()
            }
        );
        assert_eq!(
            Url::parse("http://localhost:3000", "AUTH_URL")
                .unwrap()
                .path,
            "/api/auth"
        );
        assert_eq!(
            Url::parse("localhost:3000/custom", "AUTH_URL").unwrap(),
            Url {
                https: true,
                origin: "https://localhost:3000".into(),
                path: "/custom".into()
            }
        );
        assert_eq!(
            Url::parse("example.com/r?to=http://x", "AUTH_URL")
                .unwrap()
                .origin,
            "https://example.com"
        );
        assert_eq!(
            Url::parse("HTTP://App.Example.COM:8080/", "AUTH_URL")
                .unwrap()
                .origin,
            "http://app.example.com:8080"
        );
        let invalid = |raw: &str| Url::parse(raw, "AUTH_URL").unwrap_err();
        for raw in [
            "http://",
            "https://exa mple.com",
            "ftp://x",
            "javascript:alert(1)",
            "mailto:a@example.com",
            "data:text/html,hi",
            "file:///etc/passwd",
            "https://",
            "https:///path",
            "//example.com",
        ] {
            assert_eq!(
                invalid(raw),
                ConfigError::InvalidUrl {
                    from: "AUTH_URL",
                    value: raw.into()
                },
                "{raw}"
            );
        }
    }

    #[test]
    fn invalid_urls_name_the_value_and_its_source_without_credentials() {
        let error = Url::parse("https://admin:hunter2@example.com/x", "NEXTAUTH_URL").unwrap_err();
        let message = error.to_string();
        assert_eq!(
            message,
            "NEXTAUTH_URL must be an absolute http:// or https:// URL with a host, got \"https://***@example.com/x\""
        );
    }
}
