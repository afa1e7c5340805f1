//! Route matchers in Next.js `middleware.ts` `config.matcher` syntax.
//!
//! Paste the matcher list of a Next.js middleware and get the same decisions: Next compiles each
//! source with `path-to-regexp` 6 after wrapping it for `/_next/data` requests
//! (`getMiddlewareMatchers` in `next/src/build/analysis/get-page-static-info.ts`), then tests the
//! regex's *source* against the pathname, which drops the `i` flag: matching is case-sensitive.
//! This module ports that compilation, translates the resulting JavaScript regex into the
//! equivalent `fancy-regex` expression (the dialects read `\d`, `\w`, `\b`, `.`, `\s`, `\g2`,
//! `{` and `[[:alpha:]]` differently), and runs it on `fancy-regex`, which, unlike `regex`,
//! supports the lookaheads matchers are full of (`/((?!api|_next/static).*)`). Sources JavaScript
//! refuses are refused; backreferences, octal escapes outside classes, characters outside the
//! Basic Multilingual Plane and quantified lookaheads are refused rather than approximated.
//!
//! `has`/`missing` conditions and i18n locales are not supported.
//!
//! ```
//! use tower_nextauth::Matcher;
//!
//! let m = Matcher::new(["/dashboard/:path*", "/api/me"]).unwrap();
//! assert!(m.is_match("/dashboard"));
//! assert!(m.is_match("/dashboard/a/b"));
//! assert!(!m.is_match("/dashboards"));
//! assert!(m.is_match("/api/me"));
//! assert!(!m.is_match("/api/mess"));
//!
//! let everything_but_assets = Matcher::new([r"/((?!api|_next/static|_next/image|.*\.png$).*)"]).unwrap();
//! assert!(everything_but_assets.is_match("/settings"));
//! assert!(!everything_but_assets.is_match("/logo.png"));
//! assert!(!everything_but_assets.is_match("/api/health"));
//! ```

use std::fmt;
use std::sync::Arc;

use fancy_regex::Regex;

mod js_regex;
mod path_to_regexp;

/// Compiled Next.js middleware matchers: a request path matches when any source matches.
#[derive(Clone)]
pub struct Matcher {
    /// Each source, the JavaScript regex Next.js builds from it, and its translation.
    sources: Arc<[(String, String, Regex)]>,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.sources.iter().map(|(s, _, _)| s))
            .finish()
    }
}

/// A matcher source that Next.js would refuse too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherError {
    source: String,
    reason: String,
}

impl MatcherError {
    fn new(source: &str, reason: impl Into<String>) -> Self {
        Self {
            source: source.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for MatcherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid matcher {:?}: {}", self.source, self.reason)
    }
}

impl std::error::Error for MatcherError {}

impl Matcher {
    /// Compiles matcher sources, as in `export const config = { matcher: [...] }`.
    ///
    /// # Errors
    /// [`MatcherError`] when a source does not start with `/`, is longer than 4096 bytes, or does
    /// not parse as a path-to-regexp 6 path (unbalanced groups, capturing groups, a bad regex).
    ///
    /// ```
    /// use tower_nextauth::Matcher;
    ///
    /// assert!(Matcher::new(["dashboard"]).is_err());
    /// assert!(Matcher::new(["/(unbalanced"]).is_err());
    /// let m = Matcher::new([r"/files/:id(\d+)", "/blog/:slug?"]).unwrap();
    /// assert!(m.is_match("/files/12") && !m.is_match("/files/ab"));
    /// assert!(m.is_match("/blog") && m.is_match("/blog/hello") && !m.is_match("/blog/a/b"));
    /// ```
    pub fn new<I, S>(sources: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::with_base_path(sources, "")
    }

    /// Like [`new`](Self::new), with the Next.js `basePath` prefixed to every source, as Next does.
    pub(crate) fn with_base_path<I, S>(sources: I, base_path: &str) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let sources = sources
            .into_iter()
            .map(|source| {
                let source = source.as_ref();
                let (js, regex) = compile(source, base_path)?;
                Ok((source.to_owned(), js, regex))
            })
            .collect::<Result<Vec<_>, MatcherError>>()?;
        Ok(Self {
            sources: sources.into(),
        })
    }

    /// The compiled regular expressions, one per source, as Next.js's build writes them into its
    /// middleware manifest.
    ///
    /// ```
    /// use tower_nextauth::Matcher;
    ///
    /// let m = Matcher::new(["/about"]).unwrap();
    /// assert_eq!(
    ///     m.regexes().collect::<Vec<_>>(),
    ///     [r"^(?:\/(_next\/data\/[^/]{1,}))?\/about(\\.json)?[\/#\?]?$"]
    /// );
    /// ```
    pub fn regexes(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|(_, js, _)| js.as_str())
    }

    /// Paths longer than this many bytes match without any pattern being run: 4 KiB.
    ///
    /// A translated matcher costs time linear in the path, and for some sources (parameters
    /// separated by text, `/shop/:cat-:item-:sku`, or lookaheads, `/api/((?!public).*)`) the
    /// constant is high: tens of milliseconds for a 64 KiB path, the most hyper accepts
    /// (65 534 bytes). Below 4 KiB every source we measured stays under 1 ms
    /// (`cargo bench --bench decode -- matcher`). Past it the path counts as covered, so the
    /// request goes through authentication: that only ever asks for a session, it never lets
    /// anything through. No browser-facing route needs more: Node, which Next.js runs on, refuses
    /// request heads over 16 KiB, and nginx's default request line buffer is 8 KiB.
    pub const MAX_PATH_LEN: usize = 4096;

    /// Whether `path` (the request path, without the query) matches any source.
    ///
    /// The check fails closed: a pattern that exhausts the regex engine's backtracking or stack
    /// limit counts as a match, and so does any path longer than
    /// [`MAX_PATH_LEN`](Self::MAX_PATH_LEN), without running a pattern. The request then goes
    /// through authentication rather than around it.
    ///
    /// Next.js matches the pathname after URL parsing ([`pathname`](Self::pathname)), not the
    /// raw path; the layer checks both.
    ///
    /// ```
    /// use tower_nextauth::Matcher;
    ///
    /// let m = Matcher::new(["/dashboard/:path*"]).unwrap();
    /// assert!(!m.is_match("/public/page"));
    /// assert!(m.is_match(&format!("/public/{}", "x".repeat(Matcher::MAX_PATH_LEN))));
    /// ```
    pub fn is_match(&self, path: &str) -> bool {
        if path.len() > Self::MAX_PATH_LEN {
            return true;
        }
        self.sources
            .iter()
            .any(|(_, _, regex)| regex.is_match(path).unwrap_or(true))
    }

    /// The pathname Next.js matches for a raw request path: what `new URL(path, "http://n")`
    /// gives (Next parses every request URL that way before its middleware runs). Bytes in the
    /// WHATWG path percent-encode set (controls, space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`,
    /// `}`, non-ASCII) are percent-encoded, `\` separates segments, and dot segments, `%2e`
    /// spellings included, are resolved. Borrowed when nothing changes.
    ///
    /// ```
    /// use tower_nextauth::Matcher;
    ///
    /// assert_eq!(Matcher::pathname("/dashboard"), "/dashboard");
    /// assert_eq!(Matcher::pathname("/api/auth/%2e%2e/me"), "/api/me");
    /// assert_eq!(Matcher::pathname("/a\\b/\u{2028}"), "/a/b/%E2%80%A8");
    /// ```
    pub fn pathname(path: &str) -> std::borrow::Cow<'_, str> {
        crate::pathname::normalize(path)
    }
}

/// Next's wrapping (no i18n), then path-to-regexp's `parse` + `tokensToRegexp` with defaults.
fn compile(source: &str, base_path: &str) -> Result<(String, Regex), MatcherError> {
    if !source.starts_with('/') {
        return Err(MatcherError::new(source, "must start with `/`"));
    }
    if source.len() > 4096 {
        return Err(MatcherError::new(source, "longer than 4096 bytes"));
    }
    // Next's wrapping; positions in errors are then moved back into the user's source.
    let prefix = format!(r"{base_path}/:nextData(_next/data/[^/]{{1,}})?");
    let wrapped = if source == "/" {
        format!(r"{prefix}/(/?index|/?index\.json)?")
    } else {
        format!(r"{prefix}{source}{{(\\.json)}}?")
    };
    let pattern = path_to_regexp::pattern(&wrapped).map_err(|error| {
        let offset = prefix.chars().count();
        let at = error
            .at
            .and_then(|at| at.checked_sub(offset))
            .filter(|&at| at < source.chars().count());
        let reason = match at {
            Some(at) => format!("{} at character {}", error.message, at + 1),
            None => error.message,
        };
        MatcherError::new(source, reason)
    })?;
    let js = js_regex::js_source(&pattern);
    let translated =
        js_regex::translate(&js).map_err(|reason| MatcherError::new(source, reason))?;
    let regex = Regex::new(&translated)
        .map_err(|e| MatcherError::new(source, format!("bad regex: {e}")))?;
    Ok((js, regex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_into_the_users_source() {
        let error = |source: &str| Matcher::new([source]).unwrap_err().to_string();
        // The group runs into the `(\\.json)` Next appends: no position in the user's source.
        assert_eq!(
            error("/(unbalanced"),
            r#"invalid matcher "/(unbalanced": capturing groups are not allowed"#
        );
        assert_eq!(
            error("/a/(b(c))"),
            r#"invalid matcher "/a/(b(c))": capturing groups are not allowed at character 6"#
        );
        assert_eq!(
            error("/a/:"),
            r#"invalid matcher "/a/:": missing parameter name at character 4"#
        );
        assert_eq!(
            error("/x/(?y)"),
            r#"invalid matcher "/x/(?y)": pattern cannot start with `?` at character 5"#
        );
        let with_base = Matcher::with_base_path(["/docs/:"], "/base").unwrap_err();
        assert_eq!(
            with_base.to_string(),
            r#"invalid matcher "/docs/:": missing parameter name at character 7"#
        );
    }

    #[test]
    fn hostile_sources_and_paths_never_panic() {
        for source in [
            "/:", "/(", "/()", "/(?x)", "/{", "/}", "/\\", "/:a:b", "/(a(b))", "/é/:ü", "/a{b",
        ] {
            let _ = Matcher::new([source]);
        }
        let m = Matcher::new(["/:path*"]).unwrap();
        assert!(m.is_match(&"/a".repeat(10_000)));
        assert!(m.is_match("/ünïcödé/路径"));
    }
}
