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

writeFileSync(
  new URL("../tests/fixtures/matcher_table.json", import.meta.url),
  JSON.stringify({ generated_by: { "path-to-regexp": "6.3.0", wrapping: "next getMiddlewareMatchers (no i18n)" }, configs: out }, null, 1) + "\n",
);
console.log(`wrote ${out.length} configs x ${paths.length} paths`);
