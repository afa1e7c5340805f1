// Prints the peer table with ratios: our figures are criterion medians (Cookie header to a JSON
// map, `cargo bench -p tower-nextauth-benches --bench decode`), plus the `inspect` batch figure at ~270 B.
//   node report.mjs results.json <target/criterion>     (also adds our medians to results.json)
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";

const [input, criterion] = process.argv.slice(2);
const data = JSON.parse(readFileSync(input, "utf8"));
const median = (group, bench) => {
  const file = `${criterion}/${group}/${bench}/new/estimates.json`;
  if (!existsSync(file)) throw new Error(`missing criterion result ${file}: run cargo bench -p tower-nextauth-benches --bench decode`);
  return JSON.parse(readFileSync(file, "utf8")).median.point_estimate / 1000;
};
for (const r of data.results) {
  r.ours_v4_us = median("scaling", `v4_${r.size}`);
  r.ours_v5_us = median("scaling", `v5_${r.size}`);
}
writeFileSync(input, JSON.stringify(data, null, 1));
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0].model}; node ${process.version}`);
const c4 = median("decode", "v4_typed"), c5 = median("decode", "v5_cbc_hs512_typed");
const m4 = median("decode", "v4_map"), m5 = median("decode", "v5_cbc_hs512_map");
console.log(`criterion medians, Cookie header -> typed struct: v4 ${f(c4)} µs, v5 ${f(c5)} µs; -> JSON map: v4 ${f(m4)} µs, v5 ${f(m5)} µs`);
const row = data.results.find((r) => r.size === 270);
console.log(`~${row.claims_bytes} B claims: next-auth getToken ${f(row.next_auth_get_token_us)} µs = ${(row.next_auth_get_token_us / c4).toFixed(0)}x ours (v4 typed); @auth/core decode ${f(row.auth_core_decode_us)} µs = ${(row.auth_core_decode_us / c5).toFixed(0)}x ours (v5 typed)`);
console.log(`inspect batch mode at ~${row.claims_bytes} B (with line I/O and JSON printing): v4 ${f(row.ours_inspect_v4_us)} µs, v5 ${f(row.ours_inspect_v5_us)} µs per line`);
console.log("");
console.log("| claims | v4 chunks | next-auth `getToken` | `@auth/core` `decode` | ours v4 | ours v5 | next-auth / ours v4 | @auth/core / ours v5 |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of data.results) {
  console.log(`| ${r.claims_bytes} B | ${r.chunks} | ${f(r.next_auth_get_token_us)} µs | ${f(r.auth_core_decode_us)} µs | ${f(r.ours_v4_us)} µs | ${f(r.ours_v5_us)} µs | ${(r.next_auth_get_token_us / r.ours_v4_us).toFixed(0)}x | ${(r.auth_core_decode_us / r.ours_v5_us).toFixed(0)}x |`);
}
