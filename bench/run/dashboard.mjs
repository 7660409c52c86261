// bench/run/dashboard.sh's page: logs in, keeps the resources page and the
// console of every resource open for SECONDS, and writes how long each
// "stamp <Unix ms>" line took to arrive (median, p95, worst, in ms).
// usage: node dashboard.mjs LOGIN_URL SECONDS OUT.json (dashboard.sh puts it beside tests/dashboard's node_modules)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [url, secs, outFile] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apx-bench-profile-"));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const res = ctx.pages()[0];
await res.goto(url);
await res.locator("#res-table tbody tr").first().waitFor();
const con = await ctx.newPage();
await con.goto(new URL("/#/console", url).href);
await con.waitForTimeout(1000);
await con.evaluate(() => window.apxArrivals.splice(0));
await con.waitForTimeout(Number(secs) * 1000);
const arr = await con.evaluate(() => window.apxArrivals.slice());
const lat = arr.map((a) => /^stamp (\d+)$/.exec(a.text)).map((m, i) => (m ? arr[i].at - Number(m[1]) : null))
  .filter((x) => x !== null).sort((a, b) => a - b);
const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]);
const out = { lines: lat.length, median_ms: q(0.5), p95_ms: q(0.95), worst_ms: Math.round(lat[lat.length - 1]),
  rows: await res.locator("#res-table tbody tr").count() };
fs.writeFileSync(outFile, JSON.stringify(out));
console.log(JSON.stringify(out));
await ctx.close();
fs.rmSync(dir, { recursive: true, force: true });
