//! Route matchers in Next.js `middleware.ts` `config.matcher` syntax.
//!
//! Paste the matcher list of a Next.js middleware and get the same decisions: Next compiles each
//! source with `path-to-regexp` 6 after wrapping it for `/_next/data` requests
//! (`getMiddlewareMatchers` in `next/src/build/analysis/get-page-static-info.ts`), then tests the
//! regex's *source* against the pathname, which drops the `i` flag: matching is case-sensitive.
//! This module ports that compilation and runs the result on `fancy-regex`, which, unlike
//! `regex`, supports the lookaheads matchers are full of (`/((?!api|_next/static).*)`).
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

/// Compiled Next.js middleware matchers: a request path matches when any source matches.
#[derive(Clone)]
pub struct Matcher {
    sources: Arc<[(String, Regex)]>,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.sources.iter().map(|(s, _)| s))
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
                let regex = compile(source, base_path)?;
                Ok((source.to_owned(), regex))
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
        self.sources.iter().map(|(_, regex)| regex.as_str())
    }

    /// Whether `path` (the request path, without the query) matches any source.
    ///
    /// A pattern that exhausts the backtracking limit counts as a match: the request then goes
    /// through authentication rather than around it.
    pub fn is_match(&self, path: &str) -> bool {
        self.sources
            .iter()
            .any(|(_, regex)| regex.is_match(path).unwrap_or(true))
    }
}

/// Next's wrapping (no i18n), then path-to-regexp's `parse` + `tokensToRegexp` with defaults.
fn compile(source: &str, base_path: &str) -> Result<Regex, MatcherError> {
    if !source.starts_with('/') {
        return Err(MatcherError::new(source, "must start with `/`"));
    }
    if source.len() > 4096 {
        return Err(MatcherError::new(source, "longer than 4096 bytes"));
    }
    let wrapped = if source == "/" {
        format!(r"{base_path}/:nextData(_next/data/[^/]{{1,}})?/(/?index|/?index\.json)?")
    } else {
        format!(r"{base_path}/:nextData(_next/data/[^/]{{1,}})?{source}{{(\\.json)}}?")
    };
    let tokens = parse(&wrapped).map_err(|reason| MatcherError::new(source, reason))?;
    let pattern = to_regex(&tokens).map_err(|reason| MatcherError::new(source, reason))?;
    let pattern = js_source(&pattern);
    Regex::new(&pattern).map_err(|e| MatcherError::new(source, format!("bad regex: {e}")))
}

#[derive(Debug, PartialEq)]
enum Lexeme {
    Modifier(char),
    Escaped(char),
    Open,
    Close,
    Name(String),
    Pattern(String),
    Char(char),
}

fn lex(input: &str) -> Result<Vec<(usize, Lexeme)>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' | '?' => {
                out.push((i, Lexeme::Modifier(c)));
                i += 1;
            }
            '\\' => {
                let escaped = *chars.get(i + 1).ok_or(format!("trailing `\\` at {i}"))?;
                out.push((i, Lexeme::Escaped(escaped)));
                i += 2;
            }
            '{' => {
                out.push((i, Lexeme::Open));
                i += 1;
            }
            '}' => {
                out.push((i, Lexeme::Close));
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == i + 1 {
                    return Err(format!("missing parameter name at {i}"));
                }
                out.push((i, Lexeme::Name(chars[i + 1..j].iter().collect())));
                i = j;
            }
            '(' => {
                let mut depth = 1;
                let mut pattern = String::new();
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    return Err(format!("pattern cannot start with `?` at {j}"));
                }
                while j < chars.len() {
                    match chars[j] {
                        '\\' => {
                            pattern.push('\\');
                            if let Some(&next) = chars.get(j + 1) {
                                pattern.push(next);
                            }
                            j += 2;
                            continue;
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        '(' => {
                            depth += 1;
                            if chars.get(j + 1) != Some(&'?') {
                                return Err(format!("capturing groups are not allowed at {j}"));
                            }
                        }
                        _ => {}
                    }
                    pattern.push(chars[j]);
                    j += 1;
                }
                if depth != 0 {
                    return Err(format!("unbalanced pattern at {i}"));
                }
                if pattern.is_empty() {
                    return Err(format!("missing pattern at {i}"));
                }
                out.push((i, Lexeme::Pattern(pattern)));
                i = j;
            }
            _ => {
                out.push((i, Lexeme::Char(c)));
                i += 1;
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Token {
    Text(String),
    Param {
        /// Named or unnamed; only whether it has a pattern matters for the regex.
        prefix: String,
        suffix: String,
        pattern: String,
        modifier: Option<char>,
    },
}

const DELIMITER: &str = "/#?";

fn parse(input: &str) -> Result<Vec<Token>, String> {
    let lexemes = lex(input)?;
    let mut out: Vec<Token> = Vec::new();
    let mut path = String::new();
    let mut i = 0;
    let peek = |i: usize| lexemes.get(i).map(|(_, l)| l);
    while i < lexemes.len() {
        let char_ = match peek(i) {
            Some(Lexeme::Char(c)) => {
                i += 1;
                Some(*c)
            }
            _ => None,
        };
        let name = take_name(&lexemes, &mut i);
        let pattern = take_pattern(&lexemes, &mut i);
        if name.is_some() || pattern.is_some() {
            let mut prefix = char_.map(String::from).unwrap_or_default();
            // Only `.` and `/` are prefixes (path-to-regexp's default `prefixes`).
            if !prefix.is_empty() && prefix != "." && prefix != "/" {
                path.push_str(&prefix);
                prefix.clear();
            }
            if !path.is_empty() {
                out.push(Token::Text(std::mem::take(&mut path)));
            }
            let pattern = match pattern {
                Some(p) => p,
                None => safe_pattern(&out, &prefix, name.as_deref())?,
            };
            let modifier = take_modifier(&lexemes, &mut i);
            out.push(Token::Param {
                prefix,
                suffix: String::new(),
                pattern,
                modifier,
            });
            continue;
        }
        if let Some(c) = char_ {
            path.push(c);
            continue;
        }
        if let Some(Lexeme::Escaped(c)) = peek(i) {
            path.push(*c);
            i += 1;
            continue;
        }
        if !path.is_empty() {
            out.push(Token::Text(std::mem::take(&mut path)));
        }
        if let Some(Lexeme::Open) = peek(i) {
            i += 1;
            let prefix = consume_text(&lexemes, &mut i);
            let name = take_name(&lexemes, &mut i);
            let pattern = take_pattern(&lexemes, &mut i);
            let suffix = consume_text(&lexemes, &mut i);
            match lexemes.get(i) {
                Some((_, Lexeme::Close)) => i += 1,
                Some((at, other)) => {
                    return Err(format!("unexpected {other:?} at {at}, expected `}}`"))
                }
                None => return Err("unexpected end, expected `}`".into()),
            }
            let pattern = match (&name, pattern) {
                (Some(_), None) => safe_pattern(&out, &prefix, name.as_deref())?,
                (_, Some(p)) => p,
                (None, None) => String::new(),
            };
            let modifier = take_modifier(&lexemes, &mut i);
            out.push(Token::Param {
                prefix,
                suffix,
                pattern,
                modifier,
            });
            continue;
        }
        let (at, other) = &lexemes[i];
        return Err(format!("unexpected {other:?} at {at}"));
    }
    if !path.is_empty() {
        out.push(Token::Text(path));
    }
    Ok(out)
}

fn take_name(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<String> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Name(name))) => {
            *i += 1;
            Some(name.clone())
        }
        _ => None,
    }
}

fn take_pattern(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<String> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Pattern(pattern))) => {
            *i += 1;
            Some(pattern.clone())
        }
        _ => None,
    }
}

fn take_modifier(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<char> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Modifier(m))) => {
            *i += 1;
            Some(*m)
        }
        _ => None,
    }
}

fn consume_text(lexemes: &[(usize, Lexeme)], i: &mut usize) -> String {
    let mut text = String::new();
    while let Some((_, Lexeme::Char(c) | Lexeme::Escaped(c))) = lexemes.get(*i) {
        text.push(*c);
        *i += 1;
    }
    text
}

/// path-to-regexp 6.3's default pattern, which refuses to run into the text before it (its fix
/// for catastrophic backtracking, CVE-2024-45296).
fn safe_pattern(out: &[Token], prefix: &str, name: Option<&str>) -> Result<String, String> {
    let prev = out.last();
    let prev_text = if !prefix.is_empty() {
        prefix
    } else {
        match prev {
            Some(Token::Text(t)) => t.as_str(),
            _ => "",
        }
    };
    if prev.is_some() && prev_text.is_empty() {
        return Err(format!(
            "must have text between two parameters, before {:?}",
            name.unwrap_or("(pattern)")
        ));
    }
    let class = format!("[^{}]", escape(DELIMITER));
    if prev_text.is_empty() || prev_text.chars().any(|c| DELIMITER.contains(c)) {
        Ok(format!("{class}+?"))
    } else {
        Ok(format!("(?:(?!{}){class})+?", escape(prev_text)))
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if ".+*?=^!:${}()[]|/\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The form `RegExp.prototype.source` gives: `/` escaped outside character classes. The regex is
/// the same; the text then equals what Next.js writes into its middleware manifest.
fn js_source(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let (mut escaped, mut class) = (false, false);
    for c in pattern.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => class = true,
            ']' => class = false,
            '/' if !class => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// `tokensToRegexp` with path-to-regexp's defaults: `start`, `end`, not `strict`.
fn to_regex(tokens: &[Token]) -> Result<String, String> {
    let mut route = String::from("^");
    for token in tokens {
        match token {
            Token::Text(text) => route.push_str(&escape(text)),
            Token::Param {
                prefix,
                suffix,
                pattern,
                modifier,
            } => {
                let prefix = escape(prefix);
                let suffix = escape(suffix);
                let modifier = modifier.map(String::from).unwrap_or_default();
                if pattern.is_empty() {
                    route.push_str(&format!("(?:{prefix}{suffix}){modifier}"));
                } else if !prefix.is_empty() || !suffix.is_empty() {
                    if modifier == "+" || modifier == "*" {
                        let optional = if modifier == "*" { "?" } else { "" };
                        route.push_str(&format!(
                            "(?:{prefix}((?:{pattern})(?:{suffix}{prefix}(?:{pattern}))*){suffix}){optional}"
                        ));
                    } else {
                        route.push_str(&format!("(?:{prefix}({pattern}){suffix}){modifier}"));
                    }
                } else if modifier == "+" || modifier == "*" {
                    return Err("a repeated parameter needs a prefix or suffix".into());
                } else {
                    route.push_str(&format!("({pattern}){modifier}"));
                }
            }
        }
    }
    route.push_str(&format!("[{}]?$", escape(DELIMITER)));
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_like_path_to_regexp() {
        // Checked against path-to-regexp 6.3.0 with Next's wrapping (interop/matcher-table.mjs).
        let tokens = parse(r"/dashboard/:path*").unwrap();
        assert_eq!(
            to_regex(&tokens).unwrap(),
            r"^\/dashboard(?:\/((?:[^\/#\?]+?)(?:\/(?:[^\/#\?]+?))*))?[\/#\?]?$"
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
