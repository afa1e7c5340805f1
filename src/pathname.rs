//! The pathname Next.js matches, computed from the raw request path.
//!
//! Next.js never sees the request target as sent: it parses it with the WHATWG URL parser
//! (`new URL(url, "http://n")` in `next@15 packages/next/src/shared/lib/router/utils/parse-relative-url.ts`,
//! the `NextURL` of `packages/next/src/server/web/adapter.ts`) before the middleware matcher and
//! `withAuth` run. For an `http` URL (a special scheme) that parser, in its "path state":
//!
//! - percent-encodes, as UTF-8 with uppercase hex, every code point in the *path percent-encode
//!   set*: C0 controls, space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`, `}`, and everything above
//!   U+007E (DEL and all non-ASCII). `%` itself is left alone, valid escape or not. `^` and `|`
//!   are not encoded (checked against Node 20's `new URL()`, which Next runs on);
//! - reads `\` as a path separator, as it does `/`;
//! - resolves dot segments: `.` and `%2e` (any case) are dropped, `..`, `.%2e`, `%2e.` and
//!   `%2e%2e` drop the segment before them, and never climb above the root;
//! - before all that, removes ASCII tabs and newlines anywhere and strips C0 controls and spaces
//!   at both ends ("basic URL parser", steps 1 to 3).
//!
//! A router behind the layer sees the raw path instead, so a matcher tested against the raw path
//! alone reads `/api/users/1<U+2028>` (JavaScript's `.` stops at U+2028) or `/api/auth/../x`
//! (the skip list) differently from Next. [`normalize`] computes Next's form; the layer then
//! checks both (`Policy::passes` in `src/layer.rs`).
//!
//! Paths whose first segment is empty (`//x`, `/\x`) are read here as an `http://n` URL's path
//! would be (`//x`); Next.js answers them with a redirect before any matcher runs
//! (`normalizeRepeatedSlashes` in `packages/next/src/server/base-server.ts`), and the layer covers
//! them through its slash-collapsing rule.

use std::borrow::Cow;

/// Whether the WHATWG path state percent-encodes this ASCII byte (bytes above 0x7E always are).
const fn encodes(b: u8) -> bool {
    matches!(b, 0x00..=0x20 | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | 0x7F..)
}

/// `.` or `%2e`, any case: the "single-dot URL path segment".
fn is_single_dot(segment: &[u8]) -> bool {
    segment == b"." || segment.eq_ignore_ascii_case(b"%2e")
}

/// `..`, `.%2e`, `%2e.` or `%2e%2e`, any case: the "double-dot URL path segment".
fn is_double_dot(segment: &[u8]) -> bool {
    match segment.len() {
        2 => segment == b"..",
        4 => segment.eq_ignore_ascii_case(b".%2e") || segment.eq_ignore_ascii_case(b"%2e."),
        6 => segment.eq_ignore_ascii_case(b"%2e%2e"),
        _ => false,
    }
}

/// Whether `path` is already in the form the parser would give it: rooted, nothing to encode,
/// no `\`, no dot segment. One pass over the bytes, no allocation: the common case.
fn is_normal(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    let mut start = 1;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if encodes(b) || b == b'\\' {
            return false;
        }
        if b == b'/' {
            let segment = &bytes[start..i];
            if is_single_dot(segment) || is_double_dot(segment) {
                return false;
            }
            start = i + 1;
        }
    }
    let last = &bytes[start..];
    !(is_single_dot(last) || is_double_dot(last))
}

/// The pathname `new URL(path, "http://n")` gives for a request path (no query, no fragment):
/// borrowed when it is the path itself.
///
/// A path that does not start with `/` (`*`, or an empty one) is resolved against the root, as
/// the parser resolves it against `http://n/`.
pub(crate) fn normalize(path: &str) -> Cow<'_, str> {
    if is_normal(path) {
        return Cow::Borrowed(path);
    }
    // Steps 1 to 3 of the basic URL parser: strip C0 controls and spaces at both ends, remove
    // tabs and newlines everywhere.
    let trimmed = path.trim_matches(|c: char| c <= ' ');
    let mut input: Vec<u8> = trimmed
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
        .collect();
    // The root the path is resolved under ("path start state" consumes one separator).
    if matches!(input.first(), Some(b'/' | b'\\')) {
        input.remove(0);
    }
    let mut segments: Vec<String> = Vec::new();
    let mut rest = input.as_slice();
    loop {
        let end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'\\')
            .unwrap_or(rest.len());
        let (segment, at_end) = (&rest[..end], end == rest.len());
        if is_double_dot(segment) {
            segments.pop();
            if at_end {
                segments.push(String::new());
            }
        } else if is_single_dot(segment) {
            if at_end {
                segments.push(String::new());
            }
        } else {
            segments.push(encode(segment));
        }
        if at_end {
            break;
        }
        rest = &rest[end + 1..];
    }
    let mut out = String::with_capacity(path.len() + segments.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    Cow::Owned(out)
}

/// UTF-8 percent-encoding with the path percent-encode set (the bytes are UTF-8 already).
fn encode(segment: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(segment.len());
    for &b in segment {
        if encodes(b) {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// `path` with every run of `/` reduced to one, as Next.js does (with a redirect) before routing;
/// borrowed when there is no run.
pub(crate) fn collapse_slashes(path: &str) -> Cow<'_, str> {
    if !path.contains("//") {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `path` is its only form: already Next's pathname ([`normalize`] borrows it) and
/// without a run of slashes ([`collapse_slashes`] borrows it), so [`Forms::of`] would derive
/// nothing. The common case, checked without building the forms.
pub(crate) fn is_sole_form(path: &str) -> bool {
    is_normal(path) && !path.contains("//")
}

/// The spellings of one request path that the layer decides on: the path as sent, Next's
/// pathname, and each with runs of slashes collapsed. Only the forms that differ from the path
/// as sent are computed, so the common case allocates nothing.
pub(crate) struct Forms<'a> {
    raw: &'a str,
    derived: [Option<String>; 4],
}

impl<'a> Forms<'a> {
    pub(crate) fn of(raw: &'a str) -> Self {
        let owned = |c: Cow<'_, str>| match c {
            Cow::Owned(s) => Some(s),
            Cow::Borrowed(_) => None,
        };
        let normalized = owned(normalize(raw));
        let collapsed = owned(collapse_slashes(raw));
        // Collapsing can create dot segments (`/a//..` is `/a/..`) and resolving can create runs
        // (`/a/..//b` is `//b`): both orders.
        let collapsed_normalized = collapsed.as_deref().and_then(|c| owned(normalize(c)));
        let normalized_collapsed = normalized
            .as_deref()
            .and_then(|n| owned(collapse_slashes(n)));
        let mut derived = [
            normalized,
            collapsed,
            collapsed_normalized,
            normalized_collapsed,
        ];
        // A form equal to an earlier one is checked once.
        for i in 1..derived.len() {
            let (before, rest) = derived.split_at_mut(i);
            if rest[0]
                .as_deref()
                .is_some_and(|d| d == raw || before.iter().any(|b| b.as_deref() == Some(d)))
            {
                rest[0] = None;
            }
        }
        Self { raw, derived }
    }

    /// Every form, the path as sent first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        std::iter::once(self.raw).chain(self.derived.iter().flatten().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_paths_are_borrowed() {
        for path in [
            "/",
            "/dashboard",
            "/api/me",
            "/a/b.c/d",
            "/a/...",
            "/a%20b",
            "/%zz",
            "/^|",
        ] {
            assert!(matches!(normalize(path), Cow::Borrowed(_)), "{path}");
            assert!(
                Forms::of(path).derived.iter().all(Option::is_none),
                "{path}"
            );
        }
    }

    #[test]
    fn like_new_url() {
        // Each checked with Node's `new URL(path, "http://n").pathname`; the generated table in
        // tests/fixtures/matcher_table.json holds many more.
        for (path, expected) in [
            ("/a/b/../c", "/a/c"),
            ("/a/b/%2E%2e/c", "/a/c"),
            ("/a/b/.%2E/c", "/a/c"),
            ("/a/./b/%2e/c", "/a/b/c"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/a\\b\\..\\c", "/a/c"),
            ("/a//b/../c", "/a//c"),
            ("/a/..;/x", "/a/..;/x"),
            ("/a/\u{2028}/\u{e9}", "/a/%E2%80%A8/%C3%A9"),
            ("/a b\"<>`{}^|\u{7f}", "/a%20b%22%3C%3E%60%7B%7D^|%7F"),
            ("/a\tb\nc\rd", "/abcd"),
            ("/x\u{0}\u{1}\u{1f}", "/x"),
            (" /a ", "/a"),
            ("*", "/*"),
            ("", "/"),
        ] {
            assert_eq!(normalize(path), expected, "{path:?}");
        }
    }

    #[test]
    fn a_sole_form_is_what_forms_derives_nothing_for() {
        // `Policy::passes` decides a path with `is_sole_form` as if `Forms::of` gave only the
        // path: every path over these characters up to 5 long, where it says so, must have no
        // other form.
        const ALPHABET: [&str; 10] = ["/", ".", "a", "%", "2", "e", "\\", " ", "\u{e9}", "\t"];
        let mut paths = vec![String::new()];
        let mut sole = 0;
        for _ in 0..5 {
            paths = paths
                .iter()
                .flat_map(|p| ALPHABET.iter().map(move |c| format!("{p}{c}")))
                .collect();
            for path in &paths {
                if is_sole_form(path) {
                    sole += 1;
                    let forms = Forms::of(path);
                    assert_eq!(
                        forms.iter().collect::<Vec<_>>(),
                        [path.as_str()],
                        "{path:?}"
                    );
                }
            }
        }
        assert!(sole > 1000, "the fast path covers common paths: {sole}");
        for path in ["/", "/dashboard", "/api/users/1", "/a.b/c..d/_next/x"] {
            assert!(is_sole_form(path), "{path}");
        }
        for path in ["//x", "/a/../b", "/a/%2e/b", "/a\\b", "/\u{e9}", "/a b", ""] {
            assert!(!is_sole_form(path), "{path:?}");
        }
    }

    #[test]
    fn forms_cover_both_orders() {
        let forms: Vec<_> = Forms::of("/a//../x").iter().map(str::to_owned).collect();
        assert_eq!(forms, ["/a//../x", "/a/x", "/a/../x", "/x"]);
        let forms: Vec<_> = Forms::of("/a/..//x").iter().map(str::to_owned).collect();
        assert_eq!(forms, ["/a/..//x", "//x", "/a/../x", "/x"]);
    }
}
