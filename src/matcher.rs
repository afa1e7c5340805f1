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
    let wrapped = if source == "/" {
        format!(r"{base_path}/:nextData(_next/data/[^/]{{1,}})?/(/?index|/?index\.json)?")
    } else {
        format!(r"{base_path}/:nextData(_next/data/[^/]{{1,}})?{source}{{(\\.json)}}?")
    };
    let tokens = parse(&wrapped).map_err(|reason| MatcherError::new(source, reason))?;
    let pattern = to_regex(&tokens).map_err(|reason| MatcherError::new(source, reason))?;
    let js = js_source(&pattern);
    let translated = translate(&js).map_err(|reason| MatcherError::new(source, reason))?;
    let regex = Regex::new(&translated)
        .map_err(|e| MatcherError::new(source, format!("bad regex: {e}")))?;
    Ok((js, regex))
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

/// JavaScript's `\s`: WhiteSpace and LineTerminator, which is not Unicode's `White_Space`.
const JS_SPACE: &str = r"\t\n\x{0B}\x{0C}\r\x{20}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
/// JavaScript's `\w` and `\d`: ASCII only, where the `regex` crate's are Unicode.
const JS_WORD: &str = "0-9A-Za-z_";
const JS_DIGIT: &str = "0-9";

/// Rewrites a pattern written for JavaScript's `RegExp` (no flags, so Annex B syntax) into the
/// `fancy-regex` expression that matches the same strings, or says why it can't.
///
/// Next.js runs matcher patterns on JavaScript's engine; the two dialects read the same text
/// differently in places (`\d` is ASCII in JavaScript, `\g2` is a literal there and a subroutine
/// call here, `[[:alpha:]]` is a POSIX class here and a set of brackets there). Every character
/// and class is therefore written out explicitly. Backreferences, octal escapes, characters outside
/// the Basic Multilingual Plane and quantified lookaheads are refused rather than approximated;
/// octal escapes are read as JavaScript reads them inside classes and refused outside them.
fn translate(js: &str) -> Result<String, String> {
    let mut names: Vec<String> = Vec::new();
    #[derive(PartialEq)]
    enum Group {
        Plain,
        Assertion,
    }
    let chars: Vec<char> = js.chars().collect();
    if let Some(c) = chars.iter().find(|c| u32::from(**c) > 0xFFFF) {
        return Err(format!(
            "{c:?} is outside the Basic Multilingual Plane; JavaScript sees two code units"
        ));
    }
    let mut out = String::with_capacity(js.len() * 3);
    let mut groups = Vec::new();
    // Whether the previous item can take a quantifier.
    let mut repeatable = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let e = *chars.get(i).ok_or("trailing `\\`")?;
                i += 1;
                repeatable = true;
                if let Some(set) = class_escape(e) {
                    out.push_str(&set);
                    continue;
                }
                match e {
                    'b' | 'B' => {
                        // A word character on exactly one side (`\b`), or on neither or both.
                        let w = format!("[{JS_WORD}]");
                        let (after_word, after_other) =
                            if e == 'b' { ('!', '=') } else { ('=', '!') };
                        out.push_str(&format!(
                            "(?:(?<={w})(?{after_word}{w})|(?<!{w})(?{after_other}{w}))"
                        ));
                        repeatable = false;
                    }
                    '1'..='9' => return Err("backreferences are not supported".into()),
                    'k' => return Err("named backreferences (`\\k`) are not supported".into()),
                    _ => match char_escape(e, &chars[i..], false)? {
                        Some((code, used)) => {
                            i += used;
                            push_char(&mut out, code);
                        }
                        // `\c` without a control letter: a backslash, then `c` read again.
                        None => {
                            push_char(&mut out, '\\');
                            i -= 1;
                        }
                    },
                }
            }
            '(' => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let (kind, opener, used) = if !rest.starts_with('?') {
                    (Group::Plain, "(".to_owned(), 0)
                } else if rest.starts_with("?:") {
                    (Group::Plain, "(?:".to_owned(), 2)
                } else if rest.starts_with("?=") || rest.starts_with("?!") {
                    (Group::Assertion, format!("({}", &rest[..2]), 2)
                } else if rest.starts_with("?<=") || rest.starts_with("?<!") {
                    (Group::Assertion, format!("({rest}"), 3)
                } else if rest.starts_with("?<") {
                    let end = chars[i + 2..]
                        .iter()
                        .position(|&c| c == '>')
                        .ok_or("unterminated group name")?;
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    let valid = name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        return Err(format!("unsupported group name {name:?}"));
                    }
                    if names.contains(&name) {
                        return Err(format!("duplicate group name {name:?}"));
                    }
                    names.push(name.clone());
                    (Group::Plain, format!("(?<{name}>"), end + 3)
                } else {
                    return Err(format!(
                        "unsupported group `({rest}` (not JavaScript syntax)"
                    ));
                };
                i += used;
                out.push_str(&opener);
                groups.push(kind);
                repeatable = false;
            }
            ')' => {
                let kind = groups.pop().ok_or("unmatched `)`")?;
                out.push(')');
                repeatable = kind == Group::Plain;
            }
            '|' | '^' | '$' => {
                out.push(c);
                repeatable = false;
            }
            '.' => {
                out.push_str(r"[^\n\r\x{2028}\x{2029}]");
                repeatable = true;
            }
            '[' => {
                let (class, used) = class(&chars[i..])?;
                i += used;
                out.push_str(&class);
                repeatable = true;
            }
            '*' | '+' | '?' | '{' => {
                let quantifier = if c == '{' {
                    braced_quantifier(&chars[i..])?
                } else {
                    Some((c.to_string(), 0))
                };
                match quantifier {
                    Some((q, used)) => {
                        if !repeatable {
                            return Err(format!("nothing to repeat before `{q}`"));
                        }
                        i += used;
                        out.push_str(&q);
                        if chars.get(i) == Some(&'?') {
                            out.push('?');
                            i += 1;
                        }
                        repeatable = false;
                    }
                    // Annex B: a `{` that starts no quantifier is a literal.
                    None => {
                        push_char(&mut out, '{');
                        repeatable = true;
                    }
                }
            }
            _ => {
                push_char(&mut out, c);
                repeatable = true;
            }
        }
    }
    if !groups.is_empty() {
        return Err("unterminated group".into());
    }
    Ok(out)
}

/// The class a JavaScript class escape (`\d`, `\D`, `\w`, `\W`, `\s`, `\S`) stands for, in
/// or out of a character class.
fn class_escape(e: char) -> Option<String> {
    let (negated, set) = match e {
        'd' => (false, JS_DIGIT),
        'D' => (true, JS_DIGIT),
        'w' => (false, JS_WORD),
        'W' => (true, JS_WORD),
        's' => (false, JS_SPACE),
        'S' => (true, JS_SPACE),
        _ => return None,
    };
    Some(format!("[{}{set}]", if negated { "^" } else { "" }))
}

/// A literal character: alphanumerics as they are, everything else as a `\x{..}` escape, which
/// means the same character wherever it stands.
fn push_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{{{:X}}}", u32::from(c)));
    }
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `rest` (just after the `{`), with the characters it
/// takes; `None` when the brace starts no quantifier.
fn braced_quantifier(rest: &[char]) -> Result<Option<(String, usize)>, String> {
    let Some(end) = rest.iter().position(|&c| c == '}') else {
        return Ok(None);
    };
    let body: String = rest[..end].iter().collect();
    let (min, max) = body.split_once(',').unwrap_or((&body, ""));
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !number(min) || !(max.is_empty() || number(max)) {
        return Ok(None);
    }
    // Compared as numbers of any length: strip leading zeros, then longer is larger.
    fn size(s: &str) -> (usize, &str) {
        let s = s.trim_start_matches('0');
        (s.len(), s)
    }
    if !max.is_empty() && size(max) < size(min) {
        return Err(format!("numbers out of order in `{{{body}}}`"));
    }
    Ok(Some((format!("{{{body}}}"), end + 1)))
}

/// The character a JavaScript escape stands for (`e` is the character after the backslash,
/// `rest` what follows it), and how many characters of `rest` it takes. `None` is a `\c` without a
/// control letter, which Annex B reads as a backslash followed by `c`.
fn char_escape(e: char, rest: &[char], in_class: bool) -> Result<Option<(char, usize)>, String> {
    let hex = |n: usize| -> Option<u32> {
        let digits = rest.get(..n)?;
        digits
            .iter()
            .try_fold(0, |acc, c| Some(acc * 16 + c.to_digit(16)?))
    };
    Ok(Some(match e {
        't' => ('\t', 0),
        'n' => ('\n', 0),
        'r' => ('\r', 0),
        'v' => ('\u{0B}', 0),
        'f' => ('\u{0C}', 0),
        '0' if !rest.first().is_some_and(char::is_ascii_digit) => ('\0', 0),
        // Annex B: in a class, `\1`..`\377` are octal (there are no backreferences there).
        '0'..='7' if in_class => {
            let mut code = e.to_digit(8).unwrap_or(0);
            let mut used = 0;
            while let Some(d) = rest.get(used).and_then(|c| c.to_digit(8)) {
                if used == 2 || code * 8 + d > 0o377 {
                    break;
                }
                code = code * 8 + d;
                used += 1;
            }
            (char::from(code as u8), used)
        }
        '8' | '9' if in_class => (e, 0),
        '0'..='9' => return Err("octal escapes are not supported".into()),
        'c' => match rest.first() {
            Some(&l)
                if l.is_ascii_alphabetic() || (in_class && (l.is_ascii_digit() || l == '_')) =>
            {
                (char::from(l as u8 % 32), 1)
            }
            _ => return Ok(None),
        },
        'x' => match hex(2) {
            Some(code) => (char::from_u32(code).ok_or("bad `\\x` escape")?, 2),
            None => ('x', 0),
        },
        'u' => match hex(4) {
            Some(code) => (
                char::from_u32(code).ok_or("surrogate escapes are not supported")?,
                4,
            ),
            None => ('u', 0),
        },
        // Any other escaped character stands for itself (Annex B identity escapes).
        other => (other, 0),
    }))
}

/// A character class, from just after its `[`: the `fancy-regex` class and the characters taken,
/// including the closing `]`.
fn class(rest: &[char]) -> Result<(String, usize), String> {
    enum Item {
        Char(char),
        Set(String),
    }
    let mut i = 0;
    let negated = rest.first() == Some(&'^');
    if negated {
        i += 1;
    }
    // One class atom at `i`, or `None` at the closing `]`.
    let atom = |i: &mut usize| -> Result<Option<Item>, String> {
        let c = *rest.get(*i).ok_or("unterminated character class")?;
        *i += 1;
        Ok(Some(match c {
            ']' => {
                *i -= 1;
                return Ok(None);
            }
            '\\' => {
                let e = *rest.get(*i).ok_or("unterminated character class")?;
                *i += 1;
                if let Some(set) = class_escape(e) {
                    return Ok(Some(Item::Set(set)));
                }
                match e {
                    'b' => Item::Char('\u{08}'),
                    'k' => return Err("`\\k` in a class is not supported".into()),
                    _ => match char_escape(e, &rest[*i..], true)? {
                        Some((code, used)) => {
                            *i += used;
                            Item::Char(code)
                        }
                        None => {
                            *i -= 1;
                            Item::Char('\\')
                        }
                    },
                }
            }
            other => Item::Char(other),
        }))
    };
    let push = |body: &mut String, item: Item| match item {
        Item::Char(c) => push_char(body, c),
        Item::Set(set) => body.push_str(&set),
    };
    let mut body = String::new();
    while let Some(first) = atom(&mut i)? {
        let range = rest.get(i) == Some(&'-') && rest.get(i + 1).is_some_and(|&c| c != ']');
        if !range {
            push(&mut body, first);
            continue;
        }
        i += 1;
        let last = atom(&mut i)?.ok_or("unterminated character class")?;
        match (first, last) {
            (Item::Char(a), Item::Char(b)) if a > b => {
                return Err(format!(
                    "range out of order in character class: {a:?}-{b:?}"
                ))
            }
            (Item::Char(a), Item::Char(b)) => {
                push_char(&mut body, a);
                body.push('-');
                push_char(&mut body, b);
            }
            // Annex B: a range with a class escape on either side is the two and a `-`.
            (first, last) => {
                for item in [first, Item::Char('-'), last] {
                    push(&mut body, item);
                }
            }
        }
    }
    let class = match (body.is_empty(), negated) {
        (true, false) => r"[^\x{0}-\x{10FFFF}]".to_owned(),
        (true, true) => r"[\x{0}-\x{10FFFF}]".to_owned(),
        (false, false) => format!("[{body}]"),
        (false, true) => format!("[^{body}]"),
    };
    Ok((class, i + 1))
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
