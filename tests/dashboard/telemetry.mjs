// The telemetry pages in a real browser: Debian's headless Chromium through
// playwright-core (launched as browser.mjs does). telemetry.test.sh runs it
// against a run whose frontend and catalog send OTLP with the Node.js SDK.
//
// usage: node telemetry.mjs LOGIN_URL OUTDIR TRACE_ID
// Prints `ok - …` / `not ok - …` lines; saves structured-logs.png,
// traces.png, trace.png, metrics.png in OUTDIR.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [loginUrl, outDir, traceId] = process.argv.slice(2);
let failed = 0;
const ok = (cond, what) => {
  if (!cond) failed++;
  console.log(`${cond ? "ok" : "not ok"} - ${what}`);
  return cond;
};
const base = new URL(loginUrl).origin;
fs.mkdirSync(outDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "apx-tel-profile-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  viewport: { width: 1440, height: 900 },
});
const errors = [];
const until = async (fn, ms = 15000) => {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
};
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.setDefaultTimeout(15000);
  const resp = await page.goto(loginUrl);
  ok(resp && resp.ok(), "logged in through the token URL");

  // Structured logs: both resources, levels, a filter, a row's attributes.
  await page.goto(base + "/#/structured");
  const rows = page.locator("#sl-table tbody tr.sl-row");
  const both = await until(async () => {
    const res = await rows.evaluateAll((trs) => trs.map((t) => t.dataset.resource));
    return res.includes("frontend") && res.includes("catalog");
  });
  ok(both, "structured logs: records from frontend and catalog");
  ok(await page.locator("#sl-table tbody td.sl-msg", { hasText: "items from the catalog" }).first().isVisible(), "a checkout's message is shown");
  await page.selectOption("#sl-severity", "Warning");
  const onlyWarn = await until(async () => {
    const sev = await rows.evaluateAll((trs) => trs.map((t) => Number(t.dataset.severity)));
    return sev.length > 0 && sev.every((n) => n >= 13);
  });
  ok(onlyWarn, "the level filter keeps warnings and above");
  await page.selectOption("#sl-severity", "");
  await page.fill("#sl-filter", "served");
  const filtered = await until(async () => {
    const msgs = await page.locator("#sl-table tbody td.sl-msg").allTextContents();
    return msgs.length > 0 && msgs.every((m) => m.includes("served"));
  });
  ok(filtered, "the text filter keeps matching messages");
  await rows.first().click();
  ok(await until(() => page.locator("#sl-table tr.sl-detail th", { hasText: "http.route" }).first().isVisible()), "a clicked record shows its attributes");
  await page.screenshot({ path: path.join(outDir, "structured-logs.png"), fullPage: false });

  // Traces list: the trace with both resources, its span count and duration.
  await page.goto(base + "/#/traces");
  const row = page.locator(`#tr-table tr[data-trace="${traceId}"]`);
  ok(await until(() => row.isVisible()), "the traces list has the trace");
  const chips = await row.locator(".tl-res").allTextContents();
  ok(chips.includes("frontend") && chips.includes("catalog"), `its row names both resources (${chips.join(", ")})`);
  const nspans = Number(await row.locator("td.tr-spans").textContent());
  ok(nspans >= 4, `its span count (${nspans})`);
  ok(/\d/.test(await row.locator("td.tr-dur").textContent()), "its duration");
  await page.screenshot({ path: path.join(outDir, "traces.png") });
  await page.check("#tr-errors");
  const errRows = await until(async () => {
    const ids = await page.locator("#tr-table tr.tr-row").evaluateAll((trs) => trs.map((t) => t.dataset.trace));
    return ids.length === 1 && ids[0] === "0af7651916cd43dd8448eb211c80319c";
  });
  ok(errRows, "errors only: just the trace whose span failed (sent by hand with status 2)");
  await page.uncheck("#tr-errors");
  await until(() => row.isVisible());

  // The waterfall across resources.
  await row.click();
  await page.waitForSelector("#tr-waterfall .wf-row[data-span]");
  const wf = await page.locator("#tr-waterfall .wf-row[data-span]").evaluateAll((rs) =>
    rs.map((r) => ({ res: r.dataset.resource, name: r.querySelector(".wf-label").textContent,
      left: parseFloat(r.querySelector(".wf-bar").style.left), width: parseFloat(r.querySelector(".wf-bar").style.width),
      pad: parseFloat(r.querySelector(".wf-name").style.paddingLeft) })));
  ok(wf.length === nspans && wf.some((s) => s.res === "frontend") && wf.some((s) => s.res === "catalog"),
    `the waterfall has ${wf.length} spans from both resources`);
  ok(wf[0].name === "checkout" && wf[0].left === 0 && wf[0].pad < wf[wf.length - 1].pad,
    "the root span first, at the start; children indented below it");
  const cat = wf.find((s) => s.res === "catalog");
  ok(cat && cat.left > 0 && cat.left + cat.width <= 100.5, "the catalog's span sits inside the trace's time range");
  await page.locator("#tr-waterfall .wf-row[data-resource=catalog]").first().click();
  ok(await until(() => page.locator(".tr-span th", { hasText: "parentSpanId" }).isVisible()), "a clicked span shows its details");
  await page.screenshot({ path: path.join(outDir, "trace.png"), fullPage: true });

  // Metrics: instruments per resource and a chart of recent values.
  await page.goto(base + "/#/metrics");
  const ins = page.locator('#mt-tree a.mt-ins[data-instrument="shop.checkouts"]');
  ok(await until(() => ins.isVisible()), "the metrics page lists the frontend's shop.checkouts");
  await ins.click();
  const pts = await until(async () => {
    const p = await page.locator("#mt-chart polyline").first().getAttribute("points");
    return p && p.trim().split(" ").length >= 2 ? p.trim().split(" ").length : 0;
  });
  ok(pts >= 2, `its chart draws recent points (${pts})`);
  const hist = page.locator('#mt-tree a.mt-ins[data-instrument="shop.checkout.duration"]');
  await hist.click();
  const plines = await until(async () => (await page.locator("#mt-chart polyline").count()) === 3);
  ok(plines, "a histogram is drawn as its P50, P90 and P99");
  await page.screenshot({ path: path.join(outDir, "metrics.png") });
  await ins.click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, "metrics-counter.png") });

  ok(errors.length === 0, `no script or CSP errors in the page${errors.length ? ": " + errors.slice(0, 3).join(" | ") : ""}`);
} catch (e) {
  ok(false, "the browser session: " + String(e && e.stack ? e.stack.split("\n").slice(0, 3).join(" ") : e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
