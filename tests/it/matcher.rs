//! Next.js matcher semantics, against a table computed with path-to-regexp 6.3.0 and Next's own
//! source wrapping (`interop/matcher-table.mjs`), and through the layer.

use http::StatusCode;
use serde::Deserialize;
use tower_nextauth::{Builder, Format, Matcher};

use crate::support::{fixture, get, skipped, SECRET};

#[derive(Deserialize)]
struct Table {
    configs: Vec<Config>,
    urls: Urls,
}

/// Request paths as clients send them, parsed by Node's `new URL(path, "http://n")` as Next.js
/// parses every request, and matched by Next on that pathname.
#[derive(Deserialize)]
struct Urls {
    paths: Vec<Parsed>,
    configs: Vec<Config>,
}

#[derive(Deserialize)]
struct Parsed {
    path: String,
    pathname: String,
}

#[derive(Deserialize)]
struct Config {
    sources: Vec<String>,
    base_path: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    results: std::collections::BTreeMap<String, bool>,
    /// JavaScript's error, for sources Next.js cannot build.
    error: Option<String>,
}

fn table() -> Table {
    serde_json::from_str(&fixture("matcher_table.json")).unwrap()
}

#[test]
fn every_matcher_form_compiles_and_matches_like_next() {
    let table = table();
    assert!(table.configs.len() >= 15);
    for config in table.configs.iter().filter(|c| c.base_path.is_none()) {
        if let Some(error) = &config.error {
            assert!(
                Matcher::new(&config.sources).is_err(),
                "{:?} is refused by JavaScript ({error}), so by Next's build",
                config.sources
            );
            continue;
        }
        matches_like_next(config, |path| path.into());
    }
}

/// `config`'s sources compile to the regexes Next.js writes, and match each path of the table,
/// read through `pathname`, as Next.js does.
fn matches_like_next(config: &Config, pathname: impl Fn(&str) -> std::borrow::Cow<'_, str>) {
    let m = Matcher::new(&config.sources).unwrap();
    assert_eq!(
        m.regexes().collect::<Vec<_>>(),
        config.regexes,
        "{:?}",
        config.sources
    );
    for (path, expected) in &config.results {
        assert_eq!(
            m.is_match(&pathname(path)),
            *expected,
            "{:?} on {path:?}",
            config.sources
        );
    }
}

#[test]
fn request_paths_are_parsed_like_new_url() {
    let table = table();
    let urls = &table.urls;
    assert!(urls.paths.len() >= 70, "the table lost its parsed paths");
    // The classes the table must keep: raw non-ASCII, control characters, encoded dot segments,
    // backslashes.
    for (class, present) in [
        ("non-ASCII", urls.paths.iter().any(|p| !p.path.is_ascii())),
        (
            "controls",
            urls.paths.iter().any(|p| p.path.bytes().any(|b| b < 0x20)),
        ),
        ("%2e", urls.paths.iter().any(|p| p.path.contains("%2e"))),
        (
            "backslash",
            urls.paths.iter().any(|p| p.path.contains('\\')),
        ),
    ] {
        assert!(present, "the table lost its {class} paths");
    }
    for parsed in &urls.paths {
        assert_eq!(
            Matcher::pathname(&parsed.path),
            parsed.pathname,
            "{:?}",
            parsed.path
        );
    }
}

#[test]
fn matches_like_next_on_the_parsed_pathname() {
    let table = table();
    assert!(table.urls.configs.len() >= 8);
    for config in &table.urls.configs {
        matches_like_next(config, Matcher::pathname);
    }
}

#[tokio::test]
async fn the_layer_covers_whatever_next_covers() {
    // Every parsed path Next's matcher covers (and that is not on the skip list) is refused
    // without a session, whether or not the raw path matches. Paths `http::Uri` refuses (controls,
    // spaces, `<`) never reach a tower service.
    let table = table();
    let mut checked = 0;
    for config in &table.urls.configs {
        let layer = Builder::new()
            .secret(SECRET)
            .format(Format::V5)
            .matcher(&config.sources)
            .unwrap()
            .build()
            .unwrap();
        for (path, expected) in &config.results {
            let pathname = Matcher::pathname(path);
            if !*expected || skipped(&pathname) || path.parse::<http::Uri>().is_err() {
                continue;
            }
            let status = get(&layer, path, &[]).await.status();
            assert!(
                status == StatusCode::TEMPORARY_REDIRECT || status == StatusCode::UNAUTHORIZED,
                "{:?} on {path:?}: {status}",
                config.sources
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 100,
        "only {checked} covered paths reached the layer"
    );
}

#[test]
fn the_javascript_dialect_is_translated_not_passed_through() {
    let table = table();
    let dialect: Vec<_> = table
        .configs
        .iter()
        .filter(|c| c.error.is_none() && c.base_path.is_none())
        .filter(|c| {
            c.results
                .keys()
                .any(|p| !p.is_ascii() || p.contains(['\\', '{', ']']))
        })
        .collect();
    assert!(dialect.len() >= 10, "the table lost its dialect cases");
    let refused = table.configs.iter().filter(|c| c.error.is_some()).count();
    assert!(refused >= 10, "the table lost its invalid sources");
}

#[test]
fn what_javascript_accepts_but_the_matcher_refuses() {
    // Backreferences, octal escapes, astral characters (two code units in JavaScript) and
    // quantified lookaheads: refused with a reason instead of matched differently.
    for source in [
        r"/a/:x(a)-(\1)",
        r"/a/(x\k<n>)",
        r"/a/(\01)",
        "/a/(😀)",
        r"/a/(\uD83D\uDE00)",
        "/a/(x(?=y)*)",
    ] {
        let err = Matcher::new([source]).unwrap_err();
        assert!(err.to_string().contains(&format!("{source:?}")), "{err}");
    }
}

#[test]
fn subroutine_lookalikes_are_literals_not_a_memory_bomb() {
    // Found by the matcher fuzz target: `\g2` is a subroutine call in other dialects, and this
    // source made the regex compiler use more than 2 GB. In JavaScript it is the text `g2`.
    let source = r"/(.pbma\g2j|.pbb'P<i|.$nbma\g2j|.pbb'P<i|.$npap$+g626pap$+g62666!ag$).)";
    assert!(Matcher::new([source]).is_err(), "`$+` is not JavaScript");
    let m = Matcher::new([r"/(.pbma\g2j|.pbb'P<i)."]).unwrap();
    assert!(m.is_match("/xpbmag2j."));
    assert!(!m.is_match("/xpbma2j."));
}

#[tokio::test]
async fn base_path_is_prefixed_like_next() {
    let table = table();
    let config = table
        .configs
        .iter()
        .find(|c| c.base_path.is_some())
        .unwrap();
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .base_path(config.base_path.clone().unwrap())
        .matcher(&config.sources)
        .unwrap()
        .build()
        .unwrap();
    for (path, expected) in &config.results {
        let status = get(&layer, path, &[]).await.status();
        let guarded = status == StatusCode::TEMPORARY_REDIRECT;
        assert_eq!(guarded, *expected, "{path}: {status}");
    }
}

#[tokio::test]
async fn paths_no_matcher_covers_pass_untouched() {
    let layer = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .matcher(["/dashboard/:path*", "/admin/:path*"])
        .unwrap()
        .build()
        .unwrap();
    // Not covered: no session work, no rejection, even with a garbage cookie.
    let res = get(&layer, "/", &[("cookie", "authjs.session-token=garbage")]).await;
    assert_eq!(
        (res.status(), res.body().as_str()),
        (StatusCode::OK, "anonymous")
    );
    assert_eq!(
        get(&layer, "/dashboards", &[]).await.status(),
        StatusCode::OK
    );
    // Covered.
    assert_eq!(
        get(&layer, "/dashboard", &[]).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
    assert_eq!(
        get(&layer, "/admin/users", &[]).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
    // The skip list still applies inside a catch-all matcher.
    let all = Builder::new()
        .secret(SECRET)
        .matcher(["/((?!_next/static|favicon.ico).*)"])
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        get(&all, "/api/auth/session", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&all, "/x", &[]).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
}

#[test]
fn invalid_sources_are_config_errors() {
    for source in [
        "dashboard",
        "/(a(b))",
        "/(unbalanced",
        "/:",
        "/:a:b",
        "/(?x)",
    ] {
        let err = Builder::new().secret(SECRET).matcher([source]).unwrap_err();
        assert!(err.to_string().contains(&format!("{source:?}")), "{err}");
    }
}
