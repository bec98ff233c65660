//! The skeleton's layers: health, auth errors, security headers, OpenAPI.

use std::collections::BTreeSet;
use std::sync::Arc;

use bulwark_server::auth::Authenticator;
use bulwark_server::state::Wake;
use bulwark_server::{ApiError, AppState, Principal, Scope, ServerConfig};

struct OneToken;

impl Authenticator for OneToken {
    fn authenticate(&self, token: &str) -> Result<Option<Principal>, ApiError> {
        Ok((token == "good").then(|| Principal {
            token_id: "1".into(),
            name: "test".into(),
            scopes: BTreeSet::from([Scope::Read]),
            teams: None,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skeleton_serves_health_errors_and_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let state = AppState {
        config: Arc::new(config),
        auth: Arc::new(OneToken),
        metrics: Arc::default(),
        wake: Arc::new(Wake::default()),
    };
    let server = bulwark_server::serve::start(state, Vec::new())
        .await
        .unwrap();
    let url = server.url();
    let checked = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .build(),
        );
        let health = agent.get(format!("{url}/healthz")).call().unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(
            health.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
        let mut missing = agent.get(format!("{url}/api/v1/nothing")).call().unwrap();
        assert_eq!(missing.status(), 404);
        let body: serde_json::Value = missing.body_mut().read_json().unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        let openapi: serde_json::Value = agent
            .get(format!("{url}/api/openapi.json"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        assert_eq!(openapi["openapi"], "3.1.0");
        assert!(openapi["paths"]["/healthz"].is_object());
        let metrics = agent
            .get(format!("{url}/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(metrics.contains("bulwark_http_requests_total"), "{metrics}");
    })
    .await;
    server
        .shutdown(std::time::Duration::from_secs(1))
        .await
        .unwrap();
    checked.unwrap();
}
