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

const out = configs.map((sources) => {
  const regexes = sources.map((s) => nextRegexSource(s));
  const results = Object.fromEntries(paths.map((p) => [p, regexes.some((r) => new RegExp(r).test(p))]));
  return { sources, regexes, results };
});
const based = { sources: ["/dashboard/:path*"], base_path: "/docs", regexes: [nextRegexSource("/dashboard/:path*", "/docs")] };
based.results = Object.fromEntries(["/docs/dashboard", "/docs/dashboard/x", "/dashboard", "/docs", "/docsdashboard"].map((p) => [p, new RegExp(based.regexes[0]).test(p)]));
out.push(based);

writeFileSync(
  new URL("../tests/fixtures/matcher_table.json", import.meta.url),
  JSON.stringify({ generated_by: { "path-to-regexp": "6.3.0", wrapping: "next getMiddlewareMatchers (no i18n)" }, configs: out }, null, 1) + "\n",
);
console.log(`wrote ${out.length} configs x ${paths.length} paths`);
