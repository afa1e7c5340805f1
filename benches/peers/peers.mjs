// Times next-auth@4 `getToken`, @auth/core `decode` and tower-nextauth (the `inspect` example in
// batch mode) on the same tokens, for claims from ~100 B to 12 KB. Run through ./run.sh.
//   node peers.mjs <inspect binary> <results.json>
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const v4 = require("next-auth/jwt");
const v4cookie = require(path.join(here, "node_modules/next-auth/core/lib/cookie.js"));
const v5 = await import("@auth/core/jwt");

const [inspect, out] = process.argv.slice(2);
const secret = "peer-benchmark-secret-0123456789abcdef";
const salt = "authjs.session-token";
const quiet = { debug() {}, error() {}, warn() {} };
const base = { name: "Ada Lovelace", email: "ada@example.com", picture: "https://example.com/a.png", sub: "42", role: "admin" };

function payloadOf(size) {
  const p = { ...base };
  const extra = size - JSON.stringify(p).length - 10;
  if (extra > 0) p.blob = "x".repeat(extra);
  return p;
}

async function timeAsync(fn, budgetMs) {
  for (let i = 0; i < 2000; i++) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  while (process.hrtime.bigint() < deadline || n < 20000) {
    for (let i = 0; i < 200; i++) await fn();
    n += 200;
  }
  return { us: Number(process.hrtime.bigint() - start) / 1000 / n, n };
}

/** Ours: the same line N times through `inspect`, minus a 1-line run (process start-up). */
function timeOurs(flag, line, n) {
  const run = (count) => {
    const input = (line + "\n").repeat(count);
    const start = process.hrtime.bigint();
    const stdout = execFileSync(inspect, [flag], { input, env: { NEXTAUTH_SECRET: secret }, maxBuffer: 1 << 30 });
    const ns = Number(process.hrtime.bigint() - start);
    if (!stdout.subarray(0, 200).toString().includes("Ada Lovelace")) throw new Error(`inspect did not decode: ${stdout.subarray(0, 200)}`);
    return ns;
  };
  const one = Math.min(run(1), run(1), run(1));
  const many = Math.min(run(n), run(n));
  return (many - one) / 1000 / (n - 1);
}

function cookieHeader(name, token, version) {
  const option = { name, options: { httpOnly: true, sameSite: "lax", path: "/", secure: false } };
  const set = version === "v4"
    ? new v4cookie.SessionStore(option, { cookies: {} }, quiet).chunk(token, {})
    : null;
  return set.map((c) => `${c.name}=${c.value}`).join("; ");
}

const sizes = [100, 270, 1000, 2000, 4000, 8000, 12000];
const results = [];
for (const size of sizes) {
  const payload = payloadOf(size);
  const t4 = await v4.encode({ token: payload, secret });
  const t5 = await v5.encode({ token: payload, secret, salt });
  const c4 = cookieHeader("next-auth.session-token", t4, "v4");
  const cookies4 = Object.fromEntries(c4.split("; ").map((p) => p.split(/=(.*)/s).slice(0, 2)));
  const req = { cookies: cookies4, headers: {} };
  const n4 = await timeAsync(() => v4.getToken({ req, secret, logger: quiet }), 1500);
  const n5 = await timeAsync(() => v5.decode({ token: t5, secret, salt }), 1500);
  const row = {
    size,
    claims_bytes: JSON.stringify(payload).length,
    chunks: c4.split("; ").length,
    next_auth_get_token_us: n4.us,
    auth_core_decode_us: n5.us,
  };
  if (size === 270) {
    // Our decode through the `inspect` example's batch mode (includes line I/O and printing).
    row.ours_inspect_v4_us = timeOurs("--v4", `Cookie: ${c4}`, 20000);
    row.ours_inspect_v5_us = timeOurs("--v5", t5, 20000);
  }
  results.push(row);
  console.error(JSON.stringify(row));
}
writeFileSync(out, JSON.stringify({ secret_len: secret.length, node: process.version, results }, null, 1));
