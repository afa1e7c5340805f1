// Prints the peer table with ratios, using criterion's medians for our pure decode time.
//   node report.mjs results.json <target/criterion>
import { readFileSync, existsSync } from "node:fs";
import os from "node:os";

const [input, criterion] = process.argv.slice(2);
const { results } = JSON.parse(readFileSync(input, "utf8"));
const median = (bench) => {
  const file = `${criterion}/decode/${bench}/new/estimates.json`;
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).median.point_estimate / 1000 : NaN;
};
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0].model}; node ${process.version}`);
const c4 = median("v4_typed"), c5 = median("v5_cbc_hs512_typed"), m4 = median("v4_map"), m5 = median("v5_cbc_hs512_map");
console.log(`criterion medians (Cookie header -> typed claims): v4 ${f(c4)} µs, v5 ${f(c5)} µs; into a JSON map: v4 ${f(m4)} µs, v5 ${f(m5)} µs`);
const row = results.find((r) => r.claims_bytes >= 250 && r.claims_bytes < 400);
console.log(`~${row.claims_bytes} B claims: next-auth getToken ${f(row.next_auth_get_token_us)} µs = ${(row.next_auth_get_token_us / m4).toFixed(0)}x ours (v4, criterion map); @auth/core decode ${f(row.auth_core_decode_us)} µs = ${(row.auth_core_decode_us / m5).toFixed(0)}x ours (v5, criterion map)`);
console.log("");
console.log("| claims | chunks | next-auth getToken | @auth/core decode | ours v4 (inspect) | ours v5 (inspect) | next-auth / ours | auth-core / ours |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  console.log(`| ${r.claims_bytes} B | ${r.chunks} | ${f(r.next_auth_get_token_us)} µs | ${f(r.auth_core_decode_us)} µs | ${f(r.ours_v4_us)} µs | ${f(r.ours_v5_us)} µs | ${(r.next_auth_get_token_us / r.ours_v4_us).toFixed(0)}x | ${(r.auth_core_decode_us / r.ours_v5_us).toFixed(0)}x |`);
}
