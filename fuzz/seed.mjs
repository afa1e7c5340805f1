// Seeds the fuzz corpora with real tokens and cookies (made by next-auth@4 and @auth/core with
// the fuzz secret), matcher sources and request targets. Run: node fuzz/seed.mjs
import { writeFileSync, mkdirSync } from "node:fs";
import { v4jwt, v5jwt } from "../interop/lib.mjs";

const secret = "fuzzing-secret-0123456789abcdef0123456789";
const dir = (name) => {
  const d = new URL(`./corpus/${name}/`, import.meta.url);
  mkdirSync(d, { recursive: true });
  return d;
};
const write = (name, file, data) => writeFileSync(new URL(file, dir(name)), data);
const payload = { seed: true, name: "Ada", exp: 1_893_456_000, blob: "x".repeat(50) };

const v4 = await v4jwt.encode({ token: payload, secret });
const v5 = await v5jwt.encode({ token: payload, secret, salt: "authjs.session-token" });
const v5s = await v5jwt.encode({ token: payload, secret, salt: "__Secure-authjs.session-token" });
write("token_decoder", "v4", v4);
write("token_decoder", "v5", v5);
write("cookie_reader", "v4", `next-auth.session-token=${v4}`);
write("cookie_reader", "v5-secure", `__Secure-authjs.session-token=${v5s}`);
write("cookie_reader", "v5-chunks", `authjs.session-token.1=${v5.slice(100)}; authjs.session-token.0=${v5.slice(0, 100)}`);
write("cookie_reader", "bearer", `theme=dark\nBearer ${v5}`);
for (const [i, src] of [
  "/dashboard/:path*", "/((?!api|_next/static|_next/image|.*\\.png$).*)", "/files/:id(\\d+)",
  "/settings{/:tab}?", "/:locale(en|fr)/shop", "/blog/:slug?",
].entries()) {
  write("matcher", `m${i}`, `${src}\n/dashboard/a/b`);
}
for (const [i, t] of ["/dashboard?x=1&y=a%20b", "//evil.com", "/\\evil.com", "/%0D%0Ax", "http://evil.com/a?b=c", "/@evil.com?callbackUrl=https://evil.com"].entries()) {
  write("callback_url", `t${i}`, t);
}
// Request targets for `request_target`: the first byte picks the layer (all forms, or one).
for (const [i, t] of [
  "/api/users/1\u2028", "/dashboard/x\u2029", "/api/auth/../dashboard", "/api/auth/%2e%2e/dashboard",
  "/_next/%2E%2E/admin", "/favicon.ico/../api/me", "/admin\\users", "/shop/a-b-c\u0085", "//dashboard//x",
  "/dashboard;x", "/api/public/%2e%2e/me", "/%64ashboard/\u3000", "/dashboard/?x=1",
].entries()) {
  write("request_target", `t${i}`, Buffer.concat([Buffer.from([i]), Buffer.from(t, "utf8")]));
}
// And at hyper's longest request target (65 534 bytes), past `Matcher::MAX_PATH_LEN`.
const longest = (prefix, unit) => prefix + unit.repeat(65_534).slice(0, 65_534 - prefix.length);
write("request_target", "long-public", Buffer.concat([Buffer.from([1]), Buffer.from(longest("/public/", "a-"))]));
write("request_target", "long-shop", Buffer.concat([Buffer.from([7]), Buffer.from(longest("/shop/", "a-"))]));
console.log("seeded");
