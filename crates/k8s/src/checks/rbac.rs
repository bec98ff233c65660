//! The RBAC escalation graph: subjects (users, groups, service accounts, and the workloads that
//! run as a service account with its token mounted) → bindings → roles (aggregated ClusterRoles
//! resolved through their `aggregationRule` label selectors) → rules, and from there to
//! cluster-admin-equivalent power.
//!
//! Direct power (through a ClusterRoleBinding, so in every namespace): all verbs on all
//! resources; `escalate` or `bind` on roles (grant yourself cluster-admin); `impersonate` users,
//! groups or service accounts (act as `system:masters`); `nodes/proxy` (the kubelet API runs
//! commands in any pod); creating CSRs and approving them (`certificatesigningrequests/approval`
//! plus `approve` on signers: mint a `system:masters` client certificate); changing admission
//! webhook configurations (see and rewrite every object); creating persistent volumes (a
//! hostPath volume is the node's root); reading Secrets, creating or changing (`update`,
//! `patch`: a new image runs as the workload's account) pods or workloads,
//! `pods/exec`/`attach`/`ephemeralcontainers`, or creating service account tokens in every
//! namespace (which includes kube-system and its controllers' tokens).
//!
//! Power through a namespace (a RoleBinding, so only there): the same namespace-scoped verbs
//! (create pods or workloads, read Secrets, exec/attach, create tokens, impersonate service
//! accounts, bind or escalate roles, or everything) reach cluster-admin only when the
//! namespace holds a service account that has it: the pod can run as that account, the Secret
//! or token is its credential. The graph is closed transitively (a service account that can
//! create pods where a cluster-admin account lives is itself cluster-admin-equivalent), by
//! repeating a linear pass until nothing changes: O(subjects × bindings) at worst.
//!
//! Rules restricted by `resourceNames` are not counted (they name the objects a subject may
//! touch; reading them as broad grants would raise false alarms). Group membership is not
//! expanded, except that `system:serviceaccounts:<ns>` stands for every service account of
//! that namespace when judging whether the namespace holds a privileged account.
//!
//! Not reported, because they are meant to be powerful: users whose name starts with `system:`
//! (kube-controller-manager, kube-scheduler, kube-proxy, node identities `system:node:*`), the
//! groups `system:masters`, `kubeadm:cluster-admins` (kubeadm's admin.conf since 1.29),
//! `system:nodes`, `system:bootstrappers*` and `system:monitoring`, and any grant made through
//! a built-in binding (a `system:` or `kubeadm:` name, or the label
//! `kubernetes.io/bootstrapping: rbac-defaults`), which is how the kube-system controllers get
//! their power. These still count as privileged targets (a pod created in kube-system can run
//! as `replicaset-controller`). Still reported: `system:anonymous`, `system:authenticated`,
//! `system:unauthenticated` and `system:serviceaccounts[:ns]`, which name everyone.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bulwark_misconfig::Hit;

use super::ClusterView;
use crate::facts::{BindingFacts, ClusterFacts, ObjectRef, RuleFacts, Subject};

pub const ESCALATION: &str = "BW-CLU-001";
pub const PRIVILEGED_TOKEN: &str = "BW-CLU-002";

const WORKLOADS: &[(&str, &[&str])] = &[
    ("pods", &[""]),
    ("deployments", &["apps", "extensions"]),
    ("daemonsets", &["apps", "extensions"]),
    ("statefulsets", &["apps"]),
    ("replicasets", &["apps", "extensions"]),
    ("replicationcontrollers", &[""]),
    ("jobs", &["batch"]),
    ("cronjobs", &["batch"]),
];

/// What a grant lets its subject do that counts toward cluster-admin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Power {
    Everything,
    EscalateOrBind(&'static str),
    Impersonate(&'static str),
    NodesProxy,
    ApproveCsr,
    Webhooks,
    ReadSecrets,
    CreateWorkloads(&'static str),
    /// `update`/`patch` without `create`: a changed image or service account runs the
    /// subject's code as the workload's account.
    ChangeWorkloads(&'static str),
    Exec(&'static str),
    CreateTokens,
    PersistentVolumes,
}

impl Power {
    fn describe(&self, scope: Option<&str>) -> String {
        let where_ = match scope {
            Some(ns) => format!("in {ns}"),
            None => "in every namespace".to_string(),
        };
        match self {
            Power::Everything => match scope {
                Some(ns) => format!("all verbs on all resources in {ns}"),
                None => "all verbs on all resources (cluster-admin)".to_string(),
            },
            Power::EscalateOrBind(verb) => format!("{verb} roles {where_}"),
            Power::Impersonate(what) => format!("impersonate {what}"),
            Power::NodesProxy => "nodes/proxy (the kubelet API runs commands in any pod)".into(),
            Power::ApproveCsr => {
                "create and approve certificate signing requests (mint a system:masters client certificate)".into()
            }
            Power::Webhooks => {
                "change admission webhook configurations (see and rewrite every object)".into()
            }
            Power::ReadSecrets => format!("read secrets {where_}"),
            Power::CreateWorkloads(r) => format!("create {r} {where_}"),
            Power::ChangeWorkloads(r) => format!("change {r} {where_}"),
            Power::PersistentVolumes => {
                "create persistent volumes (mount any host path of a node)".into()
            }
            Power::Exec(r) => format!("{r} {where_}"),
            Power::CreateTokens => format!("create service account tokens {where_}"),
        }
    }

    /// Powers that make a subject cluster-admin-equivalent by themselves, whatever the scope.
    fn is_direct(&self, scope: Option<&str>) -> bool {
        scope.is_none()
            || matches!(
                self,
                Power::NodesProxy
                    | Power::ApproveCsr
                    | Power::Webhooks
                    | Power::PersistentVolumes
                    | Power::Impersonate("users and groups")
            )
    }
}

/// One subject's grant: binding → role → power, in a scope (`None`: cluster-wide).
#[derive(Debug, Clone)]
struct Grant<'a> {
    subject: &'a Subject,
    binding: &'a BindingFacts,
    role: String,
    scope: Option<&'a str>,
    power: Power,
}

impl Grant<'_> {
    fn path(&self) -> String {
        let binding = match &self.binding.binding.namespace {
            Some(ns) => format!("RoleBinding {ns}/{}", self.binding.binding.name),
            None => format!("ClusterRoleBinding {}", self.binding.binding.name),
        };
        format!(
            "{} → {binding} → {} → {}",
            self.subject,
            self.role,
            self.power.describe(self.scope)
        )
    }
}

/// Why a subject is privileged: its path, and whether a reportable (not built-in) grant
/// starts it.
#[derive(Debug, Clone)]
struct Reach {
    paths: Vec<String>,
    reportable: bool,
}

pub(crate) fn check(facts: &ClusterFacts, view: &ClusterView, hits: &mut Vec<Hit>) {
    let rules = RoleRules::new(facts);
    let mut grants = grants(facts, &rules);
    // The first path found is the one shown: make it independent of the order objects came in.
    grants.sort_by(|a, b| {
        (a.subject, &a.binding.binding, &a.role, &a.power).cmp(&(
            b.subject,
            &b.binding.binding,
            &b.role,
            &b.power,
        ))
    });

    // Direct power first, then close over "can act in a namespace that holds a privileged SA".
    let mut reach: BTreeMap<&Subject, Reach> = BTreeMap::new();
    for g in grants.iter().filter(|g| g.power.is_direct(g.scope)) {
        add(&mut reach, g, g.path());
    }
    loop {
        let targets = privileged_by_namespace(&reach);
        let mut changed = false;
        for g in grants.iter().filter(|g| !g.power.is_direct(g.scope)) {
            let Some(ns) = g.scope else { continue };
            let Some(target) = targets.get(ns) else {
                continue;
            };
            if target.0 == g.subject.to_string() {
                continue;
            }
            let path = format!(
                "{} ({} is cluster-admin-equivalent: {})",
                g.path(),
                target.0,
                target.1
            );
            let before = reach.get(g.subject).map(|r| (r.paths.len(), r.reportable));
            if before.is_some_and(|(_, reportable)| reportable || g.binding.built_in) {
                continue;
            }
            add(&mut reach, g, path);
            changed |= reach.get(g.subject).map(|r| (r.paths.len(), r.reportable)) != before;
        }
        if !changed {
            break;
        }
    }

    let mut mounted_by: HashMap<(&str, &str), Vec<&ObjectRef>> = HashMap::new();
    for (key, w) in &view.workloads {
        let ns = key.namespace.as_deref().unwrap_or("default");
        let sa_automount = facts
            .service_accounts
            .get(&(ns.to_string(), w.service_account.clone()))
            .and_then(|sa| sa.automount);
        if w.automount.or(sa_automount) != Some(false) {
            mounted_by
                .entry((ns, w.service_account.as_str()))
                .or_default()
                .push(key);
        }
    }

    for (subject, r) in &reach {
        if !r.reportable || expected_to_be_powerful(subject) {
            continue;
        }
        let mut paths = r.paths.clone();
        paths.sort();
        paths.dedup();
        let workloads = match subject {
            Subject::ServiceAccount { namespace, name } => mounted_by
                .get(&(namespace.as_str(), name.as_str()))
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mounted = if workloads.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = workloads.iter().map(|w| w.to_string()).collect();
            format!("; its token is mounted by {}", first_few(&names, ", "))
        };
        hits.push(
            Hit::new(
                ESCALATION,
                format!(
                    "{subject} can reach cluster-admin-equivalent power: {}{mounted}",
                    first_few(&paths, "; ")
                ),
            )
            .on(subject.resource()),
        );
        for w in workloads {
            let sa = subject.to_string();
            hits.push(
                Hit::new(
                    PRIVILEGED_TOKEN,
                    format!(
                        "{w} runs as {sa} with its token mounted, and {sa} can reach cluster-admin-equivalent power: {}",
                        paths[0]
                    ),
                )
                .on(w.to_string()),
            );
        }
    }
}

/// At most [`SHOWN_IN_MESSAGE`] items joined, then how many more: a service account bound a
/// hundred times, or mounted by thousands of standalone pods, keeps a readable message.
fn first_few(items: &[String], separator: &str) -> String {
    if items.len() <= SHOWN_IN_MESSAGE {
        return items.join(separator);
    }
    format!(
        "{}{separator}and {} more",
        items[..SHOWN_IN_MESSAGE].join(separator),
        items.len() - SHOWN_IN_MESSAGE
    )
}

/// How many paths or workloads one message lists.
const SHOWN_IN_MESSAGE: usize = 5;

fn add<'a>(reach: &mut BTreeMap<&'a Subject, Reach>, g: &Grant<'a>, path: String) {
    let entry = reach.entry(g.subject).or_insert(Reach {
        paths: Vec::new(),
        reportable: false,
    });
    let reportable = !g.binding.built_in;
    if reportable && !entry.reportable {
        // Built-in paths only explained a privilege nobody reports; keep the reportable ones.
        entry.paths.clear();
        entry.reportable = true;
    }
    if reportable == entry.reportable {
        entry.paths.push(path);
    }
}

/// For each namespace, one privileged service account there (name, why), the first by name.
fn privileged_by_namespace(reach: &BTreeMap<&Subject, Reach>) -> HashMap<String, (String, String)> {
    let mut out: HashMap<String, (String, String)> = HashMap::new();
    for (subject, r) in reach {
        let ns = match subject {
            Subject::ServiceAccount { namespace, .. } => namespace.clone(),
            Subject::Group(g) => match g.strip_prefix("system:serviceaccounts:") {
                Some(ns) => ns.to_string(),
                None => continue,
            },
            Subject::User(_) => continue,
        };
        let mut paths = r.paths.clone();
        paths.sort();
        let why = paths.first().cloned().unwrap_or_default();
        // Keep the shortest explanation: a direct grant rather than a chain.
        let name = match subject {
            Subject::Group(g) => format!(
                "every ServiceAccount of {}",
                g.trim_start_matches("system:serviceaccounts:")
            ),
            s => s.to_string(),
        };
        out.entry(ns)
            .and_modify(|cur| {
                if why.len() < cur.1.len() {
                    *cur = (name.clone(), why.clone());
                }
            })
            .or_insert((name, why));
    }
    out
}

/// Subjects that are powerful by design (see the module doc).
fn expected_to_be_powerful(subject: &Subject) -> bool {
    match subject {
        Subject::User(n) => n.starts_with("system:") && n != "system:anonymous",
        Subject::Group(g) => {
            g == "system:masters"
                || g == "kubeadm:cluster-admins"
                || g == "system:nodes"
                || g == "system:monitoring"
                || g.starts_with("system:bootstrappers")
        }
        Subject::ServiceAccount { .. } => false,
    }
}

/// Every (subject, binding, power) in the cluster.
/// A role as a binding names it: (kind, namespace of a Role, name, bound cluster-wide).
type RoleScope<'a> = (&'a str, Option<&'a str>, &'a str, bool);

fn grants<'a>(facts: &'a ClusterFacts, rules: &RoleRules) -> Vec<Grant<'a>> {
    // Many bindings name the same role: judge each (role, scope kind) once.
    let mut judged: HashMap<RoleScope, Option<Vec<Power>>> = HashMap::new();
    let mut out = Vec::new();
    for b in &facts.bindings {
        let scope = b.binding.namespace.as_deref();
        let cluster_wide = scope.is_none();
        let (role, key) = match b.role_kind.as_str() {
            "ClusterRole" => (
                format!("ClusterRole {}", b.role_name),
                ("ClusterRole", None, b.role_name.as_str(), cluster_wide),
            ),
            "Role" => (
                format!("Role {}/{}", scope.unwrap_or_default(), b.role_name),
                ("Role", scope, b.role_name.as_str(), cluster_wide),
            ),
            _ => continue,
        };
        let powers = judged.entry(key).or_insert_with(|| {
            let role_rules = match key.0 {
                "ClusterRole" => rules.cluster_role(key.2),
                _ => facts
                    .roles
                    .get(&ObjectRef::new("Role", key.1, key.2))
                    .map(|r| r.rules.clone()),
            };
            role_rules.map(|r| powers(&r, cluster_wide))
        });
        let Some(powers) = powers else {
            continue;
        };
        for subject in &b.subjects {
            for power in powers.iter() {
                out.push(Grant {
                    subject,
                    binding: b,
                    role: role.clone(),
                    scope,
                    power: power.clone(),
                });
            }
        }
    }
    out
}

/// The rules of every ClusterRole, aggregated ones resolved (the aggregation controller would
/// have copied them in a live cluster; a dump written from manifests may hold none), plus the
/// built-in roles a dump may leave out.
struct RoleRules<'a> {
    facts: &'a ClusterFacts,
    resolved: HashMap<String, Vec<RuleFacts>>,
}

impl<'a> RoleRules<'a> {
    fn new(facts: &'a ClusterFacts) -> RoleRules<'a> {
        let mut resolved = HashMap::new();
        let cluster_roles: Vec<(&ObjectRef, _)> = facts
            .roles
            .iter()
            .filter(|(k, _)| k.kind == "ClusterRole")
            .collect();
        for (key, role) in &cluster_roles {
            if role.aggregation.is_empty() {
                continue;
            }
            let mut rules = role.rules.clone();
            let mut seen: HashSet<&str> = HashSet::from([key.name.as_str()]);
            let mut queue = vec![*key];
            while let Some(current) = queue.pop() {
                let Some(selectors) = facts.roles.get(current).map(|r| &r.aggregation) else {
                    continue;
                };
                for (other, other_role) in &cluster_roles {
                    if seen.contains(other.name.as_str())
                        || !selectors.iter().any(|s| s.matches(&other_role.labels))
                    {
                        continue;
                    }
                    seen.insert(other.name.as_str());
                    rules.extend(other_role.rules.iter().cloned());
                    queue.push(other);
                }
            }
            rules.dedup();
            resolved.insert(key.name.clone(), rules);
        }
        RoleRules { facts, resolved }
    }

    fn cluster_role(&self, name: &str) -> Option<Vec<RuleFacts>> {
        if let Some(rules) = self.resolved.get(name) {
            return Some(rules.clone());
        }
        if let Some(role) = self
            .facts
            .roles
            .get(&ObjectRef::new("ClusterRole", None, name))
        {
            return Some(role.rules.clone());
        }
        builtin_role(name)
    }
}

/// The default user-facing ClusterRoles, for dumps that bind them without listing them; only
/// the rules that matter here.
fn builtin_role(name: &str) -> Option<Vec<RuleFacts>> {
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| RuleFacts {
        api_groups: groups.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..RuleFacts::default()
    };
    match name {
        "cluster-admin" => Some(vec![rule(&["*"], &["*"], &["*"])]),
        "admin" | "edit" => Some(vec![
            rule(
                &[""],
                &["secrets", "pods", "pods/exec", "pods/attach"],
                &[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ],
            ),
            rule(&[""], &["serviceaccounts"], &["impersonate"]),
            rule(
                &["apps"],
                &["deployments", "statefulsets", "daemonsets", "replicasets"],
                &["create", "update", "patch", "delete"],
            ),
            rule(
                &["batch"],
                &["jobs", "cronjobs"],
                &["create", "update", "patch", "delete"],
            ),
        ]),
        "view" => Some(Vec::new()),
        _ => None,
    }
}

/// What a role's rules grant that counts toward cluster-admin; `cluster_wide` when bound by a
/// ClusterRoleBinding (cluster-scoped resources only count then).
fn powers(rules: &[RuleFacts], cluster_wide: bool) -> Vec<Power> {
    let can = |verb: &str, group: &str, resource: &str| {
        rules.iter().any(|r| allows(r, verb, group, resource))
    };
    let mut out = BTreeSet::new();
    if rules.iter().any(|r| {
        r.resource_names.is_empty()
            && has(&r.verbs, "*")
            && has(&r.resources, "*")
            && has(&r.api_groups, "*")
    }) {
        out.insert(Power::Everything);
    }
    for verb in ["escalate", "bind"] {
        let roles = if cluster_wide {
            "clusterroles"
        } else {
            "roles"
        };
        if can(verb, "rbac.authorization.k8s.io", roles)
            || can(verb, "rbac.authorization.k8s.io", "clusterroles")
        {
            out.insert(Power::EscalateOrBind(verb));
        }
    }
    if cluster_wide && (can("impersonate", "", "users") || can("impersonate", "", "groups")) {
        out.insert(Power::Impersonate("users and groups"));
    }
    if can("impersonate", "", "serviceaccounts") {
        out.insert(Power::Impersonate("service accounts"));
    }
    if cluster_wide {
        if ["get", "create"].iter().any(|v| can(v, "", "nodes/proxy")) {
            out.insert(Power::NodesProxy);
        }
        let g = "certificates.k8s.io";
        if can("create", g, "certificatesigningrequests")
            && (can("update", g, "certificatesigningrequests/approval")
                || can("patch", g, "certificatesigningrequests/approval"))
            && can("approve", g, "signers")
        {
            out.insert(Power::ApproveCsr);
        }
        let g = "admissionregistration.k8s.io";
        if ["create", "update", "patch", "delete"].iter().any(|v| {
            can(v, g, "mutatingwebhookconfigurations")
                || can(v, g, "validatingwebhookconfigurations")
        }) {
            out.insert(Power::Webhooks);
        }
        if can("create", "", "persistentvolumes") {
            out.insert(Power::PersistentVolumes);
        }
    }
    if ["get", "list", "watch"]
        .iter()
        .any(|v| can(v, "", "secrets"))
    {
        out.insert(Power::ReadSecrets);
    }
    let on_workloads = |verbs: &[&str]| {
        WORKLOADS.iter().find_map(|(resource, groups)| {
            groups
                .iter()
                .any(|g| verbs.iter().any(|v| can(v, g, resource)))
                .then_some(*resource)
        })
    };
    if let Some(resource) = on_workloads(&["create"]) {
        out.insert(Power::CreateWorkloads(resource));
    } else if let Some(resource) = on_workloads(&["update", "patch"]) {
        out.insert(Power::ChangeWorkloads(resource));
    }
    for (sub, verbs) in [
        ("pods/exec", &["create", "get"][..]),
        ("pods/attach", &["create", "get"][..]),
        ("pods/ephemeralcontainers", &["update", "patch"][..]),
    ] {
        if verbs.iter().any(|v| can(v, "", sub)) {
            out.insert(Power::Exec(sub));
            break;
        }
    }
    if can("create", "", "serviceaccounts/token") {
        out.insert(Power::CreateTokens);
    }
    // Everything implies the rest; say it once.
    if out.contains(&Power::Everything) {
        return vec![Power::Everything];
    }
    out.into_iter().collect()
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|x| x == wanted)
}

/// Whether a rule grants `verb` on `resource` (`pods/exec` for a subresource) in `group`, the
/// way the API server's authorizer matches: `*` is every group, resource (subresources too) or
/// verb, `*/sub` that subresource of every resource. A rule limited by `resourceNames` does not
/// count.
fn allows(rule: &RuleFacts, verb: &str, group: &str, resource: &str) -> bool {
    if !rule.resource_names.is_empty() {
        return false;
    }
    let sub = resource.split_once('/').map(|(_, s)| s);
    (has(&rule.verbs, "*") || has(&rule.verbs, verb))
        && (has(&rule.api_groups, "*") || has(&rule.api_groups, group))
        && rule.resources.iter().any(|r| {
            r == "*" || r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        })
}
