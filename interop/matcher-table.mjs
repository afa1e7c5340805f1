// Next.js middleware matcher semantics, computed with path-to-regexp 6.3.0 (the version Next
// vendors) and Next's own source wrapping (getMiddlewareMatchers, no i18n, no basePath).
// Writes ../tests/fixtures/matcher_table.json.
import { writeFileSync } from "node:fs";
import { parse, tokensToRegexp } from "path-to-regexp";

function nextRegexSource(source, basePath = "") {
  const isRoot = source === "/";
  let wrapped = `/:nextData(_next/data/[^/]{1,})?${source}${isRoot ? "(/?index|/?index\\.json)?" : "{(\\\\.json)}?"}`;
  wrapped = `${basePath}${wrapped}`;
  // tryToParsePath keeps only `.source`; the middleware matcher rebuilds it without flags.
  return tokensToRegexp(parse(wrapped)).source;
}

const configs = [
  ["/dashboard/:path*"],
  ["/api/:path*"],
  ["/admin/:path+"],
  ["/blog/:slug?"],
  ["/about"],
  ["/"],
  ["/:locale(en|fr)/shop"],
  ["/files/:id(\\d+)"],
  ["/((?!api|_next/static|_next/image|.*\\.png$).*)"],
  ["/((?!api|_next/static|_next/image|favicon.ico|sitemap.xml|robots.txt).*)"],
  ["/dashboard/:path*", "/admin/:path*", "/api/me"],
  ["/docs/:section/:page"],
  ["/shop/:item.html"],
  ["/(.*)"],
  ["/user-:id"],
  ["/:path*"],
  ["/api/((?!auth).*)"],
  ["/settings{/:tab}?"],
];

const paths = [
  "/", "/dashboard", "/dashboard/", "/dashboard/a", "/dashboard/a/b", "/dashboards", "/DASHBOARD",
  "/api", "/api/", "/api/x", "/apix", "/api/me", "/api/mess", "/api/auth/session", "/api/authors",
  "/admin", "/admin/", "/admin/users", "/admin/users/1",
  "/_next/static/x.js", "/_next/image", "/_next/data/build/dashboard.json", "/_next/data/build/dashboard/a.json",
  "/logo.png", "/a/logo.png", "/favicon.ico", "/sitemap.xml", "/robots.txt",
  "/blog", "/blog/", "/blog/x", "/blog/x/y", "/files/12", "/files/ab", "/files/",
  "/en/shop", "/de/shop", "/fr/shop/", "/about", "/about/", "/about.json", "/aboutx",
  "/a%20b", "/dashboard/a%2Fb", "//double", "/docs/intro/setup", "/docs/intro", "/shop/hat.html", "/shop/hat",
  "/user-42", "/user-", "/settings", "/settings/profile", "/settings/a/b", "/index", "/index.json",
];

// Patterns whose JavaScript reading differs from other regex dialects (Annex B escapes, ASCII-only
// classes, JavaScript's `.` and `\s`, literal braces, POSIX-looking classes, subroutine-looking
// escapes), each with the paths that tell the readings apart.
const dialect = [
  [["/w/(\\w+)"], ["/w/abc_1", "/w/é", "/w/ab-c", "/w/"]],
  [["/d/(\\d+)"], ["/d/12", "/d/١٢", "/d/１"]],
  [["/s/(a\\sb)"], ["/s/a b", "/s/a\u00a0b", "/s/a\u2003b", "/s/a\u0085b", "/s/a\ufeffb", "/s/ab"]],
  [["/S/(a\\Sb)"], ["/S/axb", "/S/a b", "/S/a\u0085b"]],
  [["/dot/(a.b)"], ["/dot/axb", "/dot/a\rb", "/dot/a\u2028b", "/dot/a\nb", "/dot/a\u0085b"]],
  [["/g/(\\g2)"], ["/g/g2", "/g/x", "/g/"]],
  [["/e/(\\e\\a\\z\\A\\h\\K\\Q\\E\\G\\p\\X)"], ["/e/eazAhKQEGpX", "/e/"]],
  [["/x/(\\x41\\u0042)"], ["/x/AB", "/x/ab"]],
  [["/x4/(\\x4g\\u12)"], ["/x4/x4gu12", "/x4/\u0004g"]],
  [["/c/(\\cJ)"], ["/c/\n", "/c/cJ", "/c/\\cJ"]],
  [["/c1/(\\c1)"], ["/c1/\\c1", "/c1/\u0011", "/c1/c1"]],
  [["/cls/([[:alpha:]]+)"], ["/cls/a]", "/cls/abc", "/cls/:]]", "/cls/[]", "/cls/z]"]],
  [["/amp/([a&&b]+)"], ["/amp/a&b", "/amp/ab", "/amp/&", "/amp/c"]],
  [["/tilde/([a~~b-]+)"], ["/tilde/a~b", "/tilde/-", "/tilde/c"]],
  [["/rng/([\\d-z]+)"], ["/rng/1-z", "/rng/5", "/rng/y", "/rng/-"]],
  [["/clsesc/([\\b\\B\\cA\\c1\\101\\8]+)"], ["/clsesc/\b", "/clsesc/B", "/clsesc/\u0001", "/clsesc/\u0011", "/clsesc/A", "/clsesc/8", "/clsesc/b"]],
  [["/any/([^]+)"], ["/any/x\ny", "/any/"]],
  [["/none/([]|x)"], ["/none/x", "/none/a", "/none/"]],
  [["/brace/(a{)"], ["/brace/a{", "/brace/a"]],
  [["/brace2/(a{2})"], ["/brace2/aa", "/brace2/a{2}"]],
  [["/brace3/(a{,2})"], ["/brace3/a{,2}", "/brace3/aa", "/brace3/"]],
  [["/brace4/(a{2,}b})"], ["/brace4/aaab}", "/brace4/ab}"]],
  [["/bnd/(a\\b.*)"], ["/bnd/a", "/bnd/a-b", "/bnd/ab", "/bnd/aé"]],
  [["/nb/(\\Bx.*)"], ["/nb/x", "/nb/ax"]],
  [["/named/(x(?<n>abc))"], ["/named/xabc", "/named/abc"]],
  [["/look/(x(?<=x)(?!y).*)"], ["/look/x", "/look/xy", "/look/xz"]],
  [["/lazy/(a+?)b"], ["/lazy/aab", "/lazy/b"]],
  [["/hash/(a#b c)"], ["/hash/a#b c", "/hash/ab"]],
  [["/ids/:id(\\d+)*"], ["/ids/1/2/3", "/ids", "/ids/x"]],
];
// Patterns JavaScript refuses, so Next's build fails: the matcher must refuse them too.
const invalid = [
  "/err/(a**)", "/err/($+)", "/err/(x(?i)y)", "/err/(x(?>y))", "/err/([b-a])", "/err/(a{2,1})",
  "/err/(x(?<n>a)(?<n>b))", "/err/(x(?#c))", "/err/(x(?P<n>a))", "/err/:a((?<n>x))*", "/err/(^*)",
  "/err/(\\b+)", "/err/((?<=a)*)",
];

const row = (sources, pathList) => {
  const regexes = sources.map((s) => nextRegexSource(s));
  const results = Object.fromEntries(pathList.map((p) => [p, regexes.some((r) => new RegExp(r).test(p))]));
  return { sources, regexes, results };
};
const out = configs.map((sources) => row(sources, paths));
for (const [sources, pathList] of dialect) out.push(row(sources, pathList));
for (const source of invalid) {
  let error;
  try {
    new RegExp(nextRegexSource(source));
  } catch (e) {
    error = String(e.message);
  }
  if (!error) throw new Error(`${source} is valid JavaScript: move it to the dialect table`);
  out.push({ sources: [source], error });
}
const based = { sources: ["/dashboard/:path*"], base_path: "/docs", regexes: [nextRegexSource("/dashboard/:path*", "/docs")] };
based.results = Object.fromEntries(["/docs/dashboard", "/docs/dashboard/x", "/dashboard", "/docs", "/docsdashboard"].map((p) => [p, new RegExp(based.regexes[0]).test(p)]));
out.push(based);

// Request paths as clients can send them (raw non-ASCII, percent-encoded, control characters,
// dot segments, backslashes), with the pathname Next.js matches: Next parses every request URL
// with `new URL(url, "http://n")` (packages/next/src/shared/lib/router/utils/parse-relative-url.ts)
// before the middleware matcher and withAuth see it. The Rust side checks its own parse against
// `pathname` and its match on that pathname against `results`.
const urlConfigs = [
  ["/dashboard/:path*"],
  ["/admin/:path*"],
  ["/api/me"],
  ["/api/:path*"],
  ["/api/((?!public).*)"],
  ["/((?!api/public|_next/static|_next/image|favicon.ico).*)"],
  ["/shop/:cat-:item-:sku"],
  ["/dot/(a.b)"],
];
const urlPaths = [
  // Raw non-ASCII: JavaScript's `.` stops at U+2028 and U+2029, `\s` takes NBSP, BOM, U+3000.
  "/api/users/1\u2028", "/api/users/1\u2029", "/dashboard/x\u2028", "/dashboard/x\u2029", "/dashboard\u2028",
  "/dashboard/\u0085", "/dashboard/\u00a0x", "/dashboard/\ufeff", "/dashboard/\u3000", "/dashboard/\u00e9",
  "/\u00e9/dashboard", "/admin\u2028/users", "/api/public\u2028", "/api/\u2028public", "/_next/static/\u2028",
  "/favicon.ico\u2028", "/shop/a-b-c\u2028", "/shop/\u00e9-b-c", "/dot/a\u2028b", "/dot/a\u00e9b", "/api/me\u0085",
  "/dashboard/\u{1F600}",
  // Percent-encoded: left as sent (`%` is not re-encoded, escapes are not decoded).
  "/dashboard/x%E2%80%A8", "/api/users/1%e2%80%a8", "/%64ashboard", "/dashboard%2Fx", "/api/%70ublic/x",
  "/api%2Fme", "/dashboard/%zz", "/dashboard/%", "/dot/a%E2%80%A8b", "/shop/a-b-c%E2%80%A8",
  // Control characters and spaces: tabs and newlines removed, C0 and spaces trimmed at the ends,
  // encoded inside.
  "/dashboard/\u0000", "/dashboard\u0001/x", "/dashboard/x\u007f", "/dash\tboard", "/dashboard\n/x",
  "/api/me\r", "/dashboard/x\u001b", "/dashboard/ ", "/api/ me", "/dashboard/a b",
  // Dot segments, raw and encoded, and climbs out of skipped prefixes.
  "/api/auth/../dashboard", "/api/auth/%2e%2e/dashboard", "/api/auth/%2E%2E/%2e%2e/dashboard",
  "/api/auth/.%2e/me", "/api/auth/%2e./me", "/_next/../dashboard", "/_next/static/%2e%2e/%2e%2e/admin/x",
  "/favicon.ico/../admin", "/favicon.ico/%2e%2e/api/me", "/api/public/../users/1", "/api/public/%2e%2e/users",
  "/dashboard/./x", "/./dashboard", "/%2e/dashboard", "/x/../dashboard", "/dashboard/..", "/dashboard/x/..",
  "/admin/%2e", "/admin/users/%2E", "/../../admin", "/api/auth/..%2F..%2Fdashboard", "/dashboard/...",
  // Backslashes separate segments in special URLs.
  "/api\\me", "/api/auth\\..\\me", "/dashboard\\x", "/_next\\..\\admin",
  // Characters in and out of the path percent-encode set; matrix parameters; case.
  "/dashboard/a\"b", "/dashboard/<x>", "/dashboard/{x}", "/dashboard/x^|", "/dashboard/`x`", "/dashboard;x",
  "/api/me;", "/Dashboard", "/shop/a-b-c",
];
const urls = urlPaths.map((path) => {
  const url = new URL(path, "http://n");
  // Next refuses anything that leaves the dummy origin (parseRelativeUrl's invariant); such
  // paths (`//x`, `/\\x`) are redirected before any matcher runs and do not belong here.
  if (url.origin !== "http://n") throw new Error(`${JSON.stringify(path)} leaves the origin`);
  return { path, pathname: url.pathname };
});
const urlRows = urlConfigs.map((sources) => {
  const regexes = sources.map((s) => nextRegexSource(s));
  const results = Object.fromEntries(urls.map(({ path, pathname }) => [path, regexes.some((r) => new RegExp(r).test(pathname))]));
  return { sources, regexes, results };
});

writeFileSync(
  new URL("../tests/fixtures/matcher_table.json", import.meta.url),
  JSON.stringify({
    generated_by: { "path-to-regexp": "6.3.0", wrapping: "next getMiddlewareMatchers (no i18n)", url: `new URL(path, "http://n"), node ${process.version}` },
    configs: out,
    urls: { paths: urls, configs: urlRows },
  }, null, 1) + "\n",
);
console.log(`wrote ${out.length} configs x ${paths.length} paths, ${urlRows.length} configs x ${urls.length} parsed paths`);
