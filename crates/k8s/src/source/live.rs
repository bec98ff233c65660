//! A live cluster through kube-rs: kubeconfig (a file, its context) or the in-cluster service
//! account, discovery of the kinds the API server serves, and each kind listed page by page
//! (`limit` and `continue`), every page handed over and dropped before the next is asked for.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use kube::api::{Api, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiResource, Discovery};
use serde_json::Value;

use super::{strip_secret_values, Consumer, Error, KindSpec, Scope, Selection, KINDS};

/// Objects asked for per page (`limit`): big enough to keep round trips few, small enough that
/// one page of pods is a few megabytes.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// How to reach the API server.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Kubeconfig files (merged in order, as `KUBECONFIG=a:b` is) and the context to use
    /// (`None`: the current context).
    Kubeconfig {
        files: Vec<PathBuf>,
        context: Option<String>,
    },
    /// The pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA).
    InCluster,
}

/// A connected cluster: the client, and the name findings are filed under
/// (`cluster://<name>`: the kubeconfig context, or `in-cluster`).
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    pub name: String,
    pub server: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Reads the credentials and builds the client (no request is sent yet).
    pub async fn connect(credentials: &Credentials) -> Result<Cluster, Error> {
        // kube's TLS config takes the process's default provider: the workspace's is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (config, name) = match credentials {
            Credentials::Kubeconfig { files, context } => {
                let mut merged: Option<Kubeconfig> = None;
                for path in files {
                    let kc = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    merged = Some(match merged {
                        None => kc,
                        Some(m) => m.merge(kc).map_err(|e| Error::Kubeconfig {
                            path: path.display().to_string(),
                            message: e.to_string(),
                        })?,
                    });
                }
                let shown = files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":");
                let Some(kc) = merged else {
                    return Err(Error::NoConfig {
                        message: "no kubeconfig file named".into(),
                    });
                };
                let name = context
                    .clone()
                    .or_else(|| kc.current_context.clone())
                    .unwrap_or_else(|| "default".into());
                let options = KubeConfigOptions {
                    context: context.clone(),
                    ..KubeConfigOptions::default()
                };
                let config = kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| Error::Kubeconfig {
                        path: shown,
                        message: e.to_string(),
                    })?;
                (config, name)
            }
            Credentials::InCluster => {
                let config = kube::Config::incluster().map_err(|e| Error::NoConfig {
                    message: e.to_string(),
                })?;
                (config, "in-cluster".to_string())
            }
        };
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))?;
        Ok(Cluster {
            client,
            name,
            server,
        })
    }

    /// Hands every object of every kind in [`KINDS`] that the server serves to `consumer`;
    /// returns how many. A kind the identity may not list is a warning and the read goes on.
    pub async fn read(
        &self,
        selection: &Selection,
        page_size: u32,
        consumer: &mut dyn Consumer,
    ) -> Result<usize, Error> {
        let groups: Vec<&str> = KINDS.iter().map(|k| k.group).collect();
        let discovery = Discovery::new(self.client.clone())
            .filter(&groups)
            .run()
            .await
            .map_err(|e| Error::Discovery {
                server: self.server.clone(),
                message: e.to_string(),
            })?;
        let mut count = 0;
        for spec in KINDS {
            let Some((resource, _)) = discovery
                .get(spec.group)
                .and_then(|g| g.recommended_kind(spec.kind))
            else {
                if !spec.optional {
                    consumer.warning(format!(
                        "the API server does not serve {} ({}); none were checked",
                        spec.plural,
                        group_shown(spec.group)
                    ));
                }
                continue;
            };
            let scopes: Vec<Option<&str>> =
                if spec.scope == Scope::Namespaced && !selection.namespaces.is_empty() {
                    selection
                        .namespaces
                        .iter()
                        .map(|n| Some(n.as_str()))
                        .collect()
                } else {
                    vec![None]
                };
            for namespace in scopes {
                count += self
                    .list_kind(spec, &resource, namespace, selection, page_size, consumer)
                    .await?;
            }
        }
        Ok(count)
    }

    /// Lists one kind (in one namespace, or everywhere), page by page. A continue token that
    /// expired (410 Gone) restarts the list once; objects already handed over are recognised
    /// by uid and skipped.
    async fn list_kind(
        &self,
        spec: &KindSpec,
        resource: &ApiResource,
        namespace: Option<&str>,
        selection: &Selection,
        page_size: u32,
        consumer: &mut dyn Consumer,
    ) -> Result<usize, Error> {
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, resource),
            None => Api::all_with(self.client.clone(), resource),
        };
        let metadata_only = spec.kind == "Secret" && !selection.secret_values;
        let where_ = namespace.map_or(String::new(), |ns| format!(" in namespace {ns}"));
        // Hashes of the uids handed over: 8 bytes an object, kept only for this kind.
        let mut seen: HashSet<u64> = HashSet::new();
        let mut restarted = false;
        let mut skipped_after_restart = 0usize;
        let mut token: Option<String> = None;
        let mut count = 0;
        loop {
            let params = ListParams {
                limit: Some(page_size),
                continue_token: token.clone(),
                ..ListParams::default()
            };
            let page = if metadata_only {
                api.list_metadata(&params).await.map(|list| {
                    let next = list.metadata.continue_.clone();
                    let items = list
                        .items
                        .into_iter()
                        .filter_map(|item| serde_json::to_value(item).ok())
                        .collect::<Vec<_>>();
                    (items, next)
                })
            } else {
                api.list(&params).await.map(|list| {
                    let next = list.metadata.continue_.clone();
                    let items = list
                        .items
                        .into_iter()
                        .filter_map(|item| serde_json::to_value(item).ok())
                        .collect::<Vec<_>>();
                    (items, next)
                })
            };
            let (items, next) = match page {
                Ok(page) => page,
                Err(kube::Error::Api(status)) if status.code == 403 => {
                    consumer.warning(format!(
                        "cannot list {}{where_}: the identity lacks the `list` verb on {} ({}) (403 Forbidden); they were not checked",
                        spec.plural,
                        spec.plural,
                        group_shown(spec.group),
                    ));
                    return Ok(count);
                }
                Err(kube::Error::Api(status)) if status.code == 410 && token.is_some() => {
                    if restarted {
                        consumer.warning(format!(
                            "listing {}{where_} stopped: its continue token expired twice (410 Gone); {count} were checked, the rest were not",
                            spec.plural
                        ));
                        return Ok(count);
                    }
                    restarted = true;
                    token = None;
                    continue;
                }
                Err(e) => {
                    return Err(Error::List {
                        kind: format!("{}{where_}", spec.plural),
                        message: e.to_string(),
                    })
                }
            };
            for mut object in items {
                let uid = uid_hash(&object);
                if let Some(uid) = uid {
                    if !seen.insert(uid) {
                        skipped_after_restart += 1;
                        continue;
                    }
                }
                if let Some(map) = object.as_object_mut() {
                    map.insert(
                        "apiVersion".into(),
                        Value::String(resource.api_version.clone()),
                    );
                    map.insert("kind".into(), Value::String(resource.kind.clone()));
                }
                if spec.kind == "Secret" && !selection.secret_values {
                    // A server that answered the metadata-only request whole.
                    strip_secret_values(&mut object);
                }
                if spec.kind == "Namespace" && !selection.wants("Namespace", None, name_of(&object))
                {
                    continue;
                }
                count += 1;
                consumer.object(object);
            }
            match next.filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        if restarted {
            consumer.warning(format!(
                "listing {}{where_} was restarted once: its continue token expired (410 Gone); {skipped_after_restart} objects read before were recognised by uid and checked once",
                spec.plural
            ));
        }
        Ok(count)
    }
}

impl Cluster {
    /// One Secret with its values (`--use-pull-secrets`: only the imagePullSecrets the pods
    /// name are read); `None` when it does not exist or may not be read.
    pub async fn pull_secret(&self, namespace: &str, name: &str) -> Result<Option<Value>, Error> {
        let resource = ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Secret".into(),
            plural: "secrets".into(),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &resource);
        match api.get_opt(name).await {
            Ok(found) => Ok(found.and_then(|s| serde_json::to_value(s).ok())),
            Err(kube::Error::Api(status)) if status.code == 403 => Ok(None),
            Err(e) => Err(Error::List {
                kind: format!("secret {namespace}/{name}"),
                message: e.to_string(),
            }),
        }
    }
}

/// The user name and password a `kubernetes.io/dockerconfigjson` (or `dockercfg`) Secret holds
/// for `registry` (`docker.io` also matches Docker Hub's historical keys).
pub fn docker_credentials(secret: &Value, registry: &str) -> Option<(String, String)> {
    use base64::Engine;
    let data = secret.get("data")?;
    let (raw, nested) = match data.get(".dockerconfigjson").and_then(Value::as_str) {
        Some(raw) => (raw, true),
        None => (data.get(".dockercfg").and_then(Value::as_str)?, false),
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let config: Value = serde_json::from_slice(&decoded).ok()?;
    let auths = if nested {
        config.get("auths")?
    } else {
        &config
    };
    let wanted = |key: &str| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("");
        host == registry
            || (registry == "docker.io"
                && matches!(host, "index.docker.io" | "registry-1.docker.io"))
    };
    let (_, entry) = auths.as_object()?.iter().find(|(k, _)| wanted(k))?;
    let user = entry.get("username").and_then(Value::as_str);
    let password = entry.get("password").and_then(Value::as_str);
    if let (Some(u), Some(p)) = (user, password) {
        return Some((u.to_string(), p.to_string()));
    }
    let auth = entry.get("auth").and_then(Value::as_str)?;
    let pair = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .ok()?;
    let pair = String::from_utf8(pair).ok()?;
    let (u, p) = pair.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn uid_hash(object: &Value) -> Option<u64> {
    let uid = object.get("metadata")?.get("uid")?.as_str()?;
    let mut h = DefaultHasher::new();
    uid.hash(&mut h);
    Some(h.finish())
}

fn name_of(object: &Value) -> &str {
    object
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn group_shown(group: &str) -> &str {
    if group.is_empty() {
        "core group"
    } else {
        group
    }
}
