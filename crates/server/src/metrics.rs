//! Prometheus metrics (`GET /metrics`, text exposition format): requests by route and status,
//! their latency, ingests, queue depth and rematch timings.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route (`/api/v1/assets/{uuid}`), never the raw path: bounded cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub ingests: Family<OutcomeLabels, Counter>,
    pub queue_depth: Family<KindLabels, Gauge>,
    pub rematch_seconds: Family<KindLabels, Histogram>,
    pub rematched_components: Counter,
    pub finding_events: Family<KindLabels, Counter>,
    pub deliveries: Family<OutcomeLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bulwark");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.5, 14))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            request_seconds.clone(),
        );
        let ingests = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "ingests",
            "Reports and SBOMs ingested (outcome: created, unchanged, rejected)",
            ingests.clone(),
        );
        let queue_depth = Family::<KindLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Jobs and deliveries waiting (kind: scan, rematch, delivery)",
            queue_depth.clone(),
        );
        let rematch_seconds = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.5, 12))
        });
        registry.register(
            "rematch_duration_seconds",
            "Rematch runs (kind: incremental, full)",
            rematch_seconds.clone(),
        );
        let rematched_components = Counter::default();
        registry.register(
            "rematched_components",
            "Stored components re-evaluated after an advisory change",
            rematched_components.clone(),
        );
        let finding_events = Family::<KindLabels, Counter>::default();
        registry.register(
            "finding_events",
            "Finding events recorded (kind: new, changed, resolved)",
            finding_events.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "notification_deliveries",
            "Notification delivery attempts (outcome: delivered, retry, failed)",
            deliveries.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            ingests,
            queue_depth,
            rematch_seconds,
            rematched_components,
            finding_events,
            deliveries,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn ingest(&self, outcome: &str) {
        self.ingests
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }
}
