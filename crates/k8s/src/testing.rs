//! An API server for tests (feature `test-support`): real Kubernetes JSON through the real
//! REST paths, over TLS with a bearer token, so kube-rs is tested exactly as it talks to a
//! cluster. Discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`), lists with
//! `limit`, `continue` and `resourceVersion`, metadata-only lists
//! (`Accept: ...;as=PartialObjectMetadataList`), 403 for the resources the identity may not
//! list and 410 Gone for a continue token made to expire. Objects are served from a list, or
//! generated one page at a time (so a 20,000-pod cluster costs the test process one page).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine;
use serde_json::{json, Value};

use crate::source::{Scope, KINDS};

/// The version every group is served at.
const VERSION: &str = "v1";

/// Objects of one kind made on demand: `make(i)` for `i` in `0..count`.
#[derive(Clone)]
pub struct Generated {
    pub api_version: String,
    pub kind: String,
    pub count: usize,
    pub make: Arc<dyn Fn(usize) -> Value + Send + Sync>,
}

/// What the server serves and refuses.
#[derive(Clone, Default)]
pub struct Spec {
    /// Objects with `kind` and `apiVersion` set (a `kubectl get -A -o json` List's items).
    pub objects: Vec<Value>,
    pub generated: Vec<Generated>,
    /// Plurals (`secrets`, `clusterroles`) the identity may not list: 403.
    pub forbidden: Vec<String>,
    /// Plurals whose first continue token expires: 410 Gone once.
    pub expire_continue_once: Vec<String>,
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub query: String,
    pub accept: String,
    pub status: u16,
}

struct State {
    spec: Spec,
    token: String,
    expired: Mutex<BTreeSet<String>>,
    log: Mutex<Vec<Logged>>,
}

/// A running test API server; stops when dropped.
pub struct ApiServer {
    pub addr: SocketAddr,
    /// A kubeconfig with the CA (`certificate-authority-data`), the server and a token.
    pub kubeconfig: PathBuf,
    state: Arc<State>,
    handle: axum_server::Handle<SocketAddr>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl ApiServer {
    /// Starts the server on a loopback port with a CA and certificate made for it (openssl).
    pub fn start(spec: Spec) -> ApiServer {
        let dir = tempfile::tempdir().expect("temp dir");
        make_certificates(dir.path());
        let token = "test-token-0123456789abcdef".to_string();
        let state = Arc::new(State {
            spec,
            token: token.clone(),
            expired: Mutex::new(BTreeSet::new()),
            log: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let tls = server_tls(dir.path());
        let handle = axum_server::Handle::new();
        let app = {
            let state = state.clone();
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                let state = state.clone();
                async move { answer(&state, &uri, &headers) }
            })
        };
        let server_handle = handle.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                axum_server::from_tcp_rustls(listener, tls)
                    .expect("server")
                    .handle(server_handle)
                    .serve(app.into_make_service())
                    .await
                    .expect("serve");
            });
        });
        let ca = std::fs::read(dir.path().join("ca.crt")).expect("ca");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {ca}\ncontexts:\n- name: test-ctx\n  context:\n    cluster: test\n    user: tester\ncurrent-context: test-ctx\nusers:\n- name: tester\n  user:\n    token: {token}\n",
                port = addr.port(),
                ca = base64::engine::general_purpose::STANDARD.encode(ca),
            ),
        )
        .expect("kubeconfig");
        ApiServer {
            addr,
            kubeconfig,
            state,
            handle,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Every request answered so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn make_certificates(dir: &Path) {
    let ext = dir.join("ext.cnf");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command (the tests make their certificates with it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

fn server_tls(dir: &Path) -> RustlsConfig {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(dir.join("server.crt"))
        .expect("cert")
        .collect::<Result<Vec<_>, _>>()
        .expect("cert");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .expect("tls config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    RustlsConfig::from_config(Arc::new(config))
}

fn status(code: u16, reason: &str, message: String) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

fn answer(state: &State, uri: &Uri, headers: &HeaderMap) -> Response {
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = route(state, uri, headers, &accept);
    if let Ok(mut log) = state.log.lock() {
        log.push(Logged {
            path: uri.path().to_string(),
            query: uri.query().unwrap_or("").to_string(),
            accept,
            status: response.status().as_u16(),
        });
    }
    response
}

/// The group of an apiVersion (`apps/v1` → `apps`, `v1` → core).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Groups served: the core and every standard group, plus optional ones holding objects.
fn served_groups(spec: &Spec) -> BTreeSet<&'static str> {
    let present: BTreeSet<(String, String)> = spec
        .objects
        .iter()
        .map(|o| {
            (
                group_of(o.get("apiVersion").and_then(Value::as_str).unwrap_or("")).to_string(),
                o.get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .chain(
            spec.generated
                .iter()
                .map(|g| (group_of(&g.api_version).to_string(), g.kind.clone())),
        )
        .collect();
    KINDS
        .iter()
        .filter(|k| !k.optional || present.iter().any(|(g, _)| g == k.group))
        .map(|k| k.group)
        .collect()
}

fn resource_list(spec: &Spec, group: &str) -> Value {
    let served = served_groups(spec);
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && served.contains(k.group))
        .map(|k| {
            json!({
                "name": k.plural, "singularName": k.kind.to_lowercase(),
                "namespaced": k.scope == Scope::Namespaced, "kind": k.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            })
        })
        .collect();
    let gv = if group.is_empty() {
        VERSION.to_string()
    } else {
        format!("{group}/{VERSION}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn route(state: &State, uri: &Uri, headers: &HeaderMap, accept: &str) -> Response {
    let bearer = format!("Bearer {}", state.token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        return status(401, "Unauthorized", "Unauthorized".into());
    }
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let spec = &state.spec;
    let (group, rest): (&str, &[&str]) = match parts.as_slice() {
        ["api"] => {
            return axum::Json(json!({"kind": "APIVersions", "versions": [VERSION],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}))
            .into_response()
        }
        ["api", v] if *v == VERSION => return axum::Json(resource_list(spec, "")).into_response(),
        ["apis"] => {
            let groups: Vec<Value> = served_groups(spec)
                .into_iter()
                .filter(|g| !g.is_empty())
                .map(|g| {
                    let gv = json!({"groupVersion": format!("{g}/{VERSION}"), "version": VERSION});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            return axum::Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
                .into_response();
        }
        ["apis", g, v] if *v == VERSION && served_groups(spec).contains(g) => {
            return axum::Json(resource_list(spec, g)).into_response()
        }
        ["api", v, rest @ ..] if *v == VERSION => ("", rest),
        ["apis", g, v, rest @ ..] if *v == VERSION => (*g, rest),
        _ => return status(404, "NotFound", "the server could not find the requested resource".into()),
    };
    // `GET .../namespaces/NS/PLURAL/NAME`: one object (a pull secret, with its values).
    if let ["namespaces", ns, plural, name] = rest {
        if spec.forbidden.iter().any(|f| f == plural) {
            return status(
                403,
                "Forbidden",
                format!("{plural} \"{name}\" is forbidden"),
            );
        }
        let found = spec.objects.iter().find(|o| {
            let m = &o["metadata"];
            KINDS
                .iter()
                .any(|k| k.plural == *plural && k.group == group && o["kind"] == k.kind)
                && m["namespace"] == *ns
                && m["name"] == *name
        });
        return match found {
            Some(o) => axum::Json(o.clone()).into_response(),
            None => status(404, "NotFound", format!("{plural} \"{name}\" not found")),
        };
    }
    let (namespace, plural) = match rest {
        [plural] => (None, *plural),
        ["namespaces", ns, plural] => (Some(*ns), *plural),
        _ => {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
            )
        }
    };
    let Some(kind) = KINDS
        .iter()
        .find(|k| k.group == group && k.plural == plural)
    else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
        );
    };
    if !served_groups(spec).contains(kind.group) {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
        );
    }
    if spec.forbidden.iter().any(|f| f == plural) {
        let scope = namespace.map_or("at the cluster scope".to_string(), |ns| {
            format!("in the namespace \"{ns}\"")
        });
        return status(
            403,
            "Forbidden",
            format!("{plural} is forbidden: User \"system:serviceaccount:bulwark:scanner\" cannot list resource \"{plural}\" in API group \"{group}\" {scope}"),
        );
    }
    let query: Vec<(String, String)> = url_pairs(uri.query().unwrap_or(""));
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let offset = match param("continue") {
        None | Some("") => 0,
        Some(token) => {
            if spec.expire_continue_once.iter().any(|p| p == plural) {
                let mut expired = state.expired.lock().expect("lock");
                if expired.insert(plural.to_string()) {
                    return status(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.".into());
                }
            }
            match token
                .strip_prefix("o")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) => n,
                None => return status(400, "BadRequest", "invalid continue token".into()),
            }
        }
    };
    let in_scope = |o: &Value| {
        namespace.is_none()
            || o.get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                == namespace
    };
    // One page, made on demand; a generated kind is never held whole.
    let fixed = spec.objects.iter().filter(|o| {
        o.get("kind").and_then(Value::as_str) == Some(kind.kind)
            && group_of(o.get("apiVersion").and_then(Value::as_str).unwrap_or("")) == kind.group
    });
    let fixed: Vec<&Value> = fixed.filter(|o| in_scope(o)).collect();
    let generated: Vec<&Generated> = spec
        .generated
        .iter()
        .filter(|g| g.kind == kind.kind && group_of(&g.api_version) == kind.group)
        .collect();
    // Generated objects are made from their index: a page costs its own objects only (the
    // tests list generated kinds cluster-wide; in a namespace, a page may come out short).
    let total = fixed.len() + generated.iter().map(|g| g.count).sum::<usize>();
    let object_at = |mut i: usize| -> Value {
        if i < fixed.len() {
            return fixed[i].clone();
        }
        i -= fixed.len();
        for g in &generated {
            if i < g.count {
                return (g.make)(i);
            }
            i -= g.count;
        }
        Value::Null
    };
    let end = offset.saturating_add(limit).min(total);
    let page: Vec<Value> = (offset.min(end)..end)
        .map(object_at)
        .filter(|o| in_scope(o))
        .collect();
    let more = end < total;
    let metadata_only = accept.contains("as=PartialObjectMetadataList");
    let items: Vec<Value> = page
        .into_iter()
        .map(|mut o| {
            if metadata_only {
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": o.get("metadata").cloned().unwrap_or(Value::Null)})
            } else {
                // Items of a list carry no kind or apiVersion, as the API server sends them.
                if let Some(m) = o.as_object_mut() {
                    m.remove("kind");
                    m.remove("apiVersion");
                }
                o
            }
        })
        .collect();
    let next = end;
    let mut metadata = json!({"resourceVersion": "424242"});
    if more {
        metadata["continue"] = Value::String(format!("o{next}"));
    }
    let (list_kind, api_version) = if metadata_only {
        (
            "PartialObjectMetadataList".to_string(),
            "meta.k8s.io/v1".to_string(),
        )
    } else if group.is_empty() {
        (format!("{}List", kind.kind), VERSION.to_string())
    } else {
        (format!("{}List", kind.kind), format!("{group}/{VERSION}"))
    };
    axum::Json(
        json!({"kind": list_kind, "apiVersion": api_version, "metadata": metadata, "items": items}),
    )
    .into_response()
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
