//! The parts of a container's inspect document (`GET /containers/{id}/json`) the audit reads,
//! as Docker and Podman write them. Every field is optional: engines leave some out or write
//! `null`, and a missing field is never a reason to fail the audit.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A container, as far as the checks are concerned.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Container {
    pub id: String,
    /// `/name` (Docker) or `name` (Podman).
    pub name: String,
    /// The image id.
    pub image: String,
    pub config: Option<Config>,
    pub state: Option<State>,
    pub host_config: Option<HostConfig>,
    pub mounts: Option<Vec<Mount>>,
    pub app_armor_profile: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    pub user: Option<String>,
    /// The image as the user named it (`nginx:1.25`, `nginx@sha256:…`, an id).
    pub image: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    pub running: Option<bool>,
    pub pid: Option<i64>,
    pub started_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub privileged: Option<bool>,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub network_mode: Option<String>,
    pub pid_mode: Option<String>,
    pub ipc_mode: Option<String>,
    #[serde(rename = "UTSMode")]
    pub uts_mode: Option<String>,
    pub userns_mode: Option<String>,
    pub cgroupns_mode: Option<String>,
    pub security_opt: Option<Vec<String>>,
    pub readonly_rootfs: Option<bool>,
    pub memory: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub pids_limit: Option<i64>,
    pub restart_policy: Option<RestartPolicy>,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub devices: Option<Vec<Device>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: Option<String>,
    pub maximum_retry_count: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: Option<String>,
    pub host_port: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Device {
    pub path_on_host: Option<String>,
    pub path_in_container: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub source: Option<String>,
    pub destination: Option<String>,
    #[serde(rename = "RW")]
    pub rw: Option<bool>,
}

impl Container {
    /// Reads the inspect document; an error names the field that is not what the Docker
    /// Engine API describes.
    pub fn from_inspect(doc: &Value) -> Result<Container, String> {
        if !doc.is_object() {
            return Err("expected an object".to_string());
        }
        serde_json::from_value(doc.clone()).map_err(|e| e.to_string())
    }

    /// The name without Docker's leading `/`, else the short id.
    pub fn display_name(&self) -> String {
        let name = self.name.trim_start_matches('/');
        if name.is_empty() {
            self.id.chars().take(12).collect()
        } else {
            name.to_string()
        }
    }

    pub fn host(&self) -> HostConfig {
        self.host_config.clone().unwrap_or_default()
    }

    pub fn image_reference(&self) -> String {
        self.config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    }

    pub fn user(&self) -> String {
        self.config
            .as_ref()
            .and_then(|c| c.user.clone())
            .unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        let state = self.state.as_ref()?;
        if state.running == Some(false) {
            return None;
        }
        state
            .pid
            .and_then(|p| u32::try_from(p).ok())
            .filter(|&p| p > 0)
    }

    pub fn mounts(&self) -> &[Mount] {
        self.mounts.as_deref().unwrap_or(&[])
    }

    /// The security options, each as `key=value` (Docker also accepts `key:value`).
    pub fn security_opts(&self) -> Vec<(String, String)> {
        self.host_config
            .as_ref()
            .and_then(|h| h.security_opt.as_ref())
            .into_iter()
            .flatten()
            .map(|opt| {
                let (k, v) = opt
                    .split_once('=')
                    .or_else(|| opt.split_once(':'))
                    .unwrap_or((opt.as_str(), ""));
                (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase())
            })
            .collect()
    }
}
