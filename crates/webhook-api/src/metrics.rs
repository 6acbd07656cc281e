//! The service's Prometheus metrics: counters updated as requests are answered, and the pool's
//! keys by status, read from the store at each scrape.

use std::time::Duration;

use domain::StatusSummary;
use prometheus::core::Collector;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use prometheus::{Registry, TextEncoder};

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const TEXT_FORMAT: &str = prometheus::TEXT_FORMAT;

/// The `route` label of requests that matched no route: raw paths would let any caller grow
/// the series without bound.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    keys_provisioned: IntCounter,
    keys_replaced: IntCounter,
    auth_failures: IntCounter,
    rate_limited: IntCounter,
    store_errors: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("webhook_http_requests_total", "HTTP requests answered, by matched route and status."),
            &["route", "status"],
        );
        let latency = HistogramVec::new(
            HistogramOpts::new("webhook_http_request_duration_seconds", "Time to answer an HTTP request, by route."),
            &["route"],
        );
        let counter = |name: &str, help: &str| IntCounter::new(name, help);
        let metrics = Self {
            requests: requests.expect(VALID),
            latency: latency.expect(VALID),
            keys_provisioned: counter("webhook_keys_provisioned_total", "Keys provisioned (201 answers).")
                .expect(VALID),
            keys_replaced: counter("webhook_keys_replaced_total", "Keys retired because a new key replaced them.")
                .expect(VALID),
            auth_failures: counter("webhook_auth_failures_total", "Webhook calls refused with 401.").expect(VALID),
            rate_limited: counter("webhook_rate_limited_total", "Webhook calls refused with 429.").expect(VALID),
            store_errors: counter("webhook_store_errors_total", "Requests answered 503 store-unavailable.")
                .expect(VALID),
            registry,
        };
        let collectors: [Box<dyn Collector>; 7] = [
            Box::new(metrics.requests.clone()),
            Box::new(metrics.latency.clone()),
            Box::new(metrics.keys_provisioned.clone()),
            Box::new(metrics.keys_replaced.clone()),
            Box::new(metrics.auth_failures.clone()),
            Box::new(metrics.rate_limited.clone()),
            Box::new(metrics.store_errors.clone()),
        ];
        for collector in collectors {
            metrics.registry.register(collector).expect("each metric is registered once, under its own name");
        }
        metrics
    }
}

/// Names and labels above are fixed and valid, so building a metric cannot fail.
const VALID: &str = "metric names and labels are valid constants";

impl Metrics {
    pub fn observe_request(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[route, &status.to_string()]).inc();
        self.latency.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    pub fn key_provisioned(&self, replaced_another: bool) {
        self.keys_provisioned.inc();
        if replaced_another {
            self.keys_replaced.inc();
        }
    }

    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    pub fn store_failed(&self) {
        self.store_errors.inc();
    }

    /// Every series in the Prometheus text format. `pool` is the summary read for this scrape;
    /// without one (the store did not answer) the per-status gauges are left out rather than
    /// reported stale, and `webhook_pool_status_up` is 0.
    pub fn render(&self, pool: Option<&StatusSummary>) -> String {
        let mut families = self.registry.gather();
        let up = IntGauge::new("webhook_pool_status_up", "1 when this scrape could read the pool's summary, else 0.")
            .expect(VALID);
        up.set(i64::from(pool.is_some()));
        families.extend(up.collect());
        if let Some(summary) = pool {
            let keys = IntGaugeVec::new(Opts::new("webhook_pool_keys", "Keys in the pool, by status."), &["status"])
                .expect(VALID);
            for (status, count) in [
                ("healthy", summary.healthy),
                ("need_refresh", summary.need_refresh),
                ("rate_limited", summary.rate_limited),
                ("exhausted", summary.exhausted),
                ("error", summary.error),
                ("other", summary.other),
            ] {
                keys.with_label_values(&[status]).set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            families.extend(keys.collect());
        }
        let mut text = Vec::new();
        TextEncoder::new().encode(&families, &mut text).expect("families gathered from valid metrics always encode");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines().find(|line| line.starts_with(series))
    }

    #[test]
    fn counts_requests_by_route_and_status() {
        let metrics = Metrics::default();
        metrics.observe_request("/health", 200, Duration::from_millis(3));
        metrics.observe_request("/health", 200, Duration::from_millis(4));
        metrics.observe_request(UNMATCHED_ROUTE, 404, Duration::from_millis(1));
        let text = metrics.render(None);
        assert_eq!(
            line(&text, r#"webhook_http_requests_total{route="/health",status="200"}"#).unwrap(),
            r#"webhook_http_requests_total{route="/health",status="200"} 2"#
        );
        assert!(line(&text, r#"webhook_http_requests_total{route="unmatched",status="404"} 1"#).is_some(), "{text}");
        assert!(line(&text, r#"webhook_http_request_duration_seconds_count{route="/health"} 2"#).is_some(), "{text}");
    }

    #[test]
    fn counts_provisioning_and_refusals() {
        let metrics = Metrics::default();
        metrics.key_provisioned(false);
        metrics.key_provisioned(true);
        metrics.auth_failed();
        metrics.rate_limited();
        metrics.rate_limited();
        metrics.store_failed();
        let text = metrics.render(None);
        for expected in [
            "webhook_keys_provisioned_total 2",
            "webhook_keys_replaced_total 1",
            "webhook_auth_failures_total 1",
            "webhook_rate_limited_total 2",
            "webhook_store_errors_total 1",
        ] {
            assert!(text.lines().any(|line| line == expected), "{expected} in\n{text}");
        }
    }

    #[test]
    fn reports_the_pool_when_it_was_read_and_leaves_it_out_when_not() {
        let metrics = Metrics::default();
        let summary = StatusSummary { total: 5, healthy: 3, need_refresh: 1, other: 1, ..Default::default() };
        let text = metrics.render(Some(&summary));
        assert!(text.lines().any(|line| line == "webhook_pool_status_up 1"), "{text}");
        assert!(text.lines().any(|line| line == r#"webhook_pool_keys{status="healthy"} 3"#), "{text}");
        assert!(text.lines().any(|line| line == r#"webhook_pool_keys{status="exhausted"} 0"#), "{text}");

        let text = metrics.render(None);
        assert!(text.lines().any(|line| line == "webhook_pool_status_up 0"), "{text}");
        assert!(!text.contains("webhook_pool_keys"), "{text}");
    }
}
