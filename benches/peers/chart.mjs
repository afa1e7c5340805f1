// Renders results.json (from peers.mjs) as an SVG line chart: decode time against claims size,
// log scale, one line per implementation.   node chart.mjs results.json scaling.svg
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
const { results } = JSON.parse(readFileSync(input, "utf8"));
const series = [
  ["next-auth@4 getToken", "next_auth_get_token_us", "#d62728"],
  ["@auth/core decode", "auth_core_decode_us", "#ff7f0e"],
  ["tower-nextauth v4", "ours_v4_us", "#1f77b4"],
  ["tower-nextauth v5", "ours_v5_us", "#2ca02c"],
];
const W = 720, H = 420, L = 70, R = 230, T = 30, B = 50;
const xs = results.map((r) => r.claims_bytes);
const ys = results.flatMap((r) => series.map(([, k]) => r[k]));
const [x0, x1] = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))];
const [y0, y1] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
const px = (x) => L + ((Math.log10(x) - x0) / (x1 - x0)) * (W - L - R);
const py = (y) => H - B - ((Math.log10(y) - y0) / (y1 - y0)) * (H - T - B);
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
svg += `<rect width="${W}" height="${H}" fill="white"/>\n`;
svg += `<text x="${L}" y="18" font-size="14">Session decode time vs. claims size (log-log, lower is better)</text>\n`;
for (let e = y0; e <= y1; e++) {
  const y = py(10 ** e);
  svg += `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 8}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(Math.abs(e))} µs</text>\n`;
}
svg += `<text x="${L - 8}" y="${H - B + 30}" text-anchor="end" fill="#777" font-size="10">v4 chunks</text>\n`;
for (const r of results) {
  const x = px(r.claims_bytes);
  svg += `<line x1="${x}" x2="${x}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${r.claims_bytes < 1000 ? r.claims_bytes + " B" : (r.claims_bytes / 1000).toFixed(0) + " KB"}</text><text x="${x}" y="${H - B + 30}" text-anchor="middle" fill="#777" font-size="10">${r.chunks}</text>\n`;
}
series.forEach(([name, key, color], i) => {
  const points = results.map((r) => `${px(r.claims_bytes).toFixed(1)},${py(r[key]).toFixed(1)}`).join(" ");
  svg += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>\n`;
  for (const r of results) svg += `<circle cx="${px(r.claims_bytes).toFixed(1)}" cy="${py(r[key]).toFixed(1)}" r="3" fill="${color}"/>\n`;
  svg += `<rect x="${W - R + 15}" y="${T + 10 + i * 22}" width="14" height="4" fill="${color}"/><text x="${W - R + 35}" y="${T + 16 + i * 22}">${name}</text>\n`;
});
svg += `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">claims JSON size</text>\n</svg>\n`;
writeFileSync(output, svg);
console.error(`wrote ${output}`);
