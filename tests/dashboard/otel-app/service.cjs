// One of two Node.js services (frontend, catalog) instrumented with the real
// OpenTelemetry SDK for Node.js, exporting OTLP/HTTP protobuf to where
// aspirec's environment points (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS with
// the x-otlp-api-key, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; the SDK
// reads them itself). tests/dashboard/telemetry.test.sh runs the pair under
// `aspirec --run`.
//
// usage: node service.cjs frontend|catalog
//   catalog:  serves GET /items on $PORT (a span of its own inside the
//             request's, a log record, a counter)
//   frontend: every 500 ms a "checkout" span that calls the catalog over
//             HTTP ($CATALOG_HTTP, the reference aspirec injects), logs the
//             result in the span, and records a histogram and a counter
"use strict";
const { NodeSDK } = require("@opentelemetry/sdk-node");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");
const { OTLPLogExporter } = require("@opentelemetry/exporter-logs-otlp-proto");
const { OTLPMetricExporter } = require("@opentelemetry/exporter-metrics-otlp-proto");
const { PeriodicExportingMetricReader } = require("@opentelemetry/sdk-metrics");
const { BatchLogRecordProcessor } = require("@opentelemetry/sdk-logs");
const { HttpInstrumentation } = require("@opentelemetry/instrumentation-http");

const role = process.argv[2];
const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL || 1000);
const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  metricReader: new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval }),
  logRecordProcessors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();

// After sdk.start(), so that the http module is the instrumented one.
const http = require("http");
const api = require("@opentelemetry/api");
const { logs, SeverityNumber } = require("@opentelemetry/api-logs");

const tracer = api.trace.getTracer("aspirec-test-" + role, "1.0.0");
const meter = api.metrics.getMeter("aspirec-test-" + role, "1.0.0");
const logger = logs.getLogger("aspirec-test-" + role, "1.0.0");
const log = (severityNumber, severityText, body, attributes) =>
  logger.emit({ severityNumber, severityText, body, attributes });

function shutdown() {
  sdk.shutdown().finally(() => process.exit(0));
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

if (role === "catalog") {
  const served = meter.createCounter("catalog.items.served", { description: "Items sent to clients", unit: "{item}" });
  const items = ["espresso", "flat white", "cortado"];
  http
    .createServer((req, res) => {
      tracer.startActiveSpan("load items", (span) => {
        span.setAttribute("catalog.items", items.length);
        served.add(items.length, { "catalog.kind": "coffee" });
        log(SeverityNumber.INFO, "Information", `served ${items.length} items`, { "http.route": req.url });
        span.end();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(items));
      });
    })
    .listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`catalog listening on ${process.env.PORT}`));
} else {
  const base = process.env.CATALOG_HTTP || process.env.services__catalog__http__0;
  if (!base) {
    console.error("no CATALOG_HTTP in the environment");
    process.exit(2);
  }
  const checkouts = meter.createCounter("shop.checkouts", { description: "Checkouts done", unit: "{checkout}" });
  const latency = meter.createHistogram("shop.checkout.duration", { description: "Checkout latency", unit: "ms" });
  let n = 0;
  const tick = () =>
    tracer.startActiveSpan("checkout", (span) => {
      const t0 = Date.now();
      const order = ++n;
      span.setAttribute("shop.order", order);
      http
        .get(base + "/items", (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => {
            const got = JSON.parse(body || "[]").length;
            log(SeverityNumber.INFO, "Information", `checkout ${order}: ${got} items from the catalog`, { "shop.order": order });
            if (order % 5 === 0) log(SeverityNumber.WARN, "Warning", `checkout ${order}: slow payment provider`, { "shop.order": order });
            checkouts.add(1, { "shop.result": "ok" });
            latency.record(Date.now() - t0, { "shop.result": "ok" });
            span.end();
          });
        })
        .on("error", (e) => {
          log(SeverityNumber.ERROR, "Error", `checkout ${order} failed: ${e.message}`, { "shop.order": order });
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.message });
          span.end();
        });
    });
  console.log(`frontend calling ${base}`);
  setInterval(tick, 500);
}
