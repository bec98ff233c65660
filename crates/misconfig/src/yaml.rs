//! A YAML loader that keeps positions: every node knows the line and column it starts at, so a
//! finding can point at the exact key (`privileged: true`) rather than at the whole document.
//!
//! Built on `granit-parser`'s event stream (YAML 1.2; JSON is YAML; the parser serde-saphyr
//! re-exports, so the workspace compiles one YAML parser), with the limits a scanner
//! of untrusted files needs: aliases may add at most [`MAX_ALIAS_NODES`] nodes and
//! [`MAX_ALIAS_BYTES`] bytes of scalar text to a stream, counted as if expanded (a "billion
//! laughs" document is refused at the alias that crosses the budget), nesting deeper than
//! [`MAX_DEPTH`] is refused, and the caller caps the input size. Merge keys (`<<: *base`) are
//! applied, as Kubernetes' YAML reader does.
//!
//! Collections and scalar text are shared (`Arc`), so an anchor costs nothing and an alias
//! costs one pointer in memory: the alias budget bounds the work of the checks that walk the
//! expanded tree, not the loader's memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// Nodes that alias expansion may add to one stream (counted as if every alias were copied
/// out). Real manifests use a handful of aliases; this is far beyond them and still cheap to
/// walk.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Bytes of scalar text that alias expansion may add to one stream: an alias to one large
/// string, repeated, is walked (and searched by the checks) once per alias.
pub const MAX_ALIAS_BYTES: usize = 16 << 20;

/// Nesting depth of mappings and sequences. Kubernetes objects nest a dozen levels deep.
pub const MAX_DEPTH: usize = 128;

/// One YAML node and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub col: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text; `plain` when unquoted (only plain scalars are booleans, numbers or null).
    Scalar {
        text: Arc<str>,
        plain: bool,
    },
    Seq(Arc<Vec<Node>>),
    /// Entries in document order.
    Map(Arc<Vec<(Node, Node)>>),
}

/// Why a stream could not be loaded, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value under `key` in a mapping (the key carries the position to
    /// report). The last of duplicate keys wins.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.map()
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value at a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The key node of the last step of `keys`, if the whole path exists.
    pub fn path_key(&self, keys: &[&str]) -> Option<&Node> {
        let (last, init) = keys.split_last()?;
        self.path(init)?.entry(last).map(|(k, _)| k)
    }

    /// The key node of the deepest step of `keys` that exists: where to report a missing
    /// setting (the `securityContext:` line when only its `runAsNonRoot` is missing).
    pub fn deepest_key(&self, keys: &[&str]) -> Option<&Node> {
        let mut node = self;
        let mut found = None;
        for k in keys {
            match node.entry(k) {
                Some((key, value)) => {
                    found = Some(key);
                    node = value;
                }
                None => break,
            }
        }
        found
    }

    pub fn map(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    pub fn seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// A scalar's text (of any style); `None` for collections and null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, plain } if !(*plain && is_null(text)) => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if is_null(text))
    }

    /// A plain scalar read as a boolean the way Kubernetes' YAML 1.1 reader does.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match &**text {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                    Some(false)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// A scalar read as an integer (quoted numbers too: a port written `"22"` is still 22).
    pub fn as_i64(&self) -> Option<i64> {
        let text = self.as_str()?.trim();
        text.parse()
            .ok()
            .or_else(|| i64::from_str_radix(text.strip_prefix("0x")?, 16).ok())
    }

    /// True when the node is an empty mapping or an empty/null value.
    pub fn is_empty(&self) -> bool {
        match &self.value {
            Value::Map(m) => m.is_empty(),
            Value::Seq(s) => s.is_empty(),
            Value::Scalar { .. } => self.is_null(),
        }
    }

    /// The scalars of a sequence (a single scalar counts as a one-item list).
    pub fn strs(&self) -> Vec<&str> {
        match &self.value {
            Value::Seq(s) => s.iter().filter_map(Node::as_str).collect(),
            _ => self.as_str().into_iter().collect(),
        }
    }

    /// A mapping key's text as the merge of `<<` compares keys (null and collections compare
    /// equal to each other, as `as_str` makes them).
    fn key_text(&self) -> Option<Arc<str>> {
        match &self.value {
            Value::Scalar { text, plain } if !(*plain && is_null(text)) => Some(Arc::clone(text)),
            _ => None,
        }
    }
}

/// What a node costs the checks that walk it: its nodes and its scalar bytes, aliases
/// counted as copies of what they name.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    bytes: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Loads every document of a stream (empty documents are dropped).
pub fn load_stream(text: &str) -> Result<Vec<Node>, YamlError> {
    match load(text) {
        Ok(docs) => Ok(docs),
        // JSON indented with tabs is valid JSON but not always valid YAML; tabs outside JSON
        // strings are plain whitespace (inside strings they must be escaped), so swapping them
        // for spaces keeps every position.
        Err(e)
            if text.contains('\t')
                && matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'[')) =>
        {
            load(&text.replace('\t', " ")).map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

enum Frame {
    Seq {
        at: (usize, usize),
        anchor: usize,
        cost: Cost,
        items: Vec<Node>,
    },
    Map {
        at: (usize, usize),
        anchor: usize,
        cost: Cost,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

fn load(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored nodes share their collections with the tree (a clone is a pointer copy).
    let mut anchors: HashMap<usize, (Node, Cost)> = HashMap::new();
    let mut alias_cost = Cost::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line(),
            message: format!("invalid YAML: {}", e.info()),
        })?;
        let at = (span.start.line(), span.start.col() + 1);
        let complete = match event {
            Event::StreamStart | Event::StreamEnd => None,
            Event::DocumentStart(..) => {
                anchors.clear();
                None
            }
            Event::DocumentEnd => None,
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        line: at.0,
                        message: format!(
                            "YAML nested more than {MAX_DEPTH} levels deep; refusing to load it"
                        ),
                    });
                }
                let cost = Cost { nodes: 1, bytes: 0 };
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        at,
                        anchor,
                        cost,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        at,
                        anchor,
                        cost,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    at,
                    anchor,
                    cost,
                    items,
                }) => Some((
                    Node {
                        line: at.0,
                        col: at.1,
                        value: Value::Seq(Arc::new(items)),
                    },
                    anchor,
                    cost,
                )),
                Some(Frame::Map {
                    at,
                    anchor,
                    cost,
                    entries,
                    ..
                }) => Some((
                    Node {
                        line: at.0,
                        col: at.1,
                        value: Value::Map(Arc::new(merge_keys(entries))),
                    },
                    anchor,
                    cost,
                )),
                None => None,
            },
            Event::Scalar(text, style, anchor, _) => Some((
                Node {
                    line: at.0,
                    col: at.1,
                    value: Value::Scalar {
                        text: Arc::from(&*text),
                        plain: style == ScalarStyle::Plain,
                    },
                },
                anchor,
                Cost {
                    nodes: 1,
                    bytes: text.len(),
                },
            )),
            Event::Alias(id) => {
                let Some((node, cost)) = anchors.get(&id) else {
                    return Err(YamlError {
                        line: at.0,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                alias_cost.add(*cost);
                if alias_cost.nodes > MAX_ALIAS_NODES || alias_cost.bytes > MAX_ALIAS_BYTES {
                    return Err(YamlError {
                        line: at.0,
                        message: format!(
                            "YAML aliases expand to more than {MAX_ALIAS_NODES} nodes or {MAX_ALIAS_BYTES} bytes (a \"billion laughs\" document?); refusing to expand them"
                        ),
                    });
                }
                Some((node.clone(), 0, *cost))
            }
            // Anchor metadata, unresolved aliases and comments are only emitted when asked
            // for (the event enum is non-exhaustive).
            _ => None,
        };
        let Some((node, anchor, cost)) = complete else {
            continue;
        };
        if anchor != 0 {
            // A clone shares the collections: an anchor costs a pointer, not a copy.
            anchors.insert(anchor, (node.clone(), cost));
        }
        match stack.last_mut() {
            None => {
                if !node.is_null() {
                    docs.push(node);
                }
            }
            Some(Frame::Seq {
                items, cost: total, ..
            }) => {
                total.add(cost);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                cost: total,
                ..
            }) => {
                total.add(cost);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
            }
        }
    }
    Ok(docs)
}

/// Applies `<<` merge keys: the merged mappings' entries come after the explicit ones, which
/// win; of the merged mappings, the first to name a key wins. Keys already present are looked
/// up in a set, so a merge of n keys costs O(n).
fn merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge =
        |k: &Node| matches!(&k.value, Value::Scalar { text, plain: true } if &**text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let (merges, mut out): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| is_merge(k));
    let mut present: HashSet<Option<Arc<str>>> = out.iter().map(|(k, _)| k.key_text()).collect();
    for (_, value) in merges {
        let sources: &[Node] = match &value.value {
            Value::Map(_) => std::slice::from_ref(&value),
            Value::Seq(items) => items,
            Value::Scalar { .. } => &[],
        };
        for source in sources {
            for (k, v) in source.map() {
                if present.insert(k.key_text()) {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_items() {
        let docs = load_stream(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: web\n    securityContext:\n      privileged: true\n---\nkind: Service\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let c = &docs[0].path(&["spec", "containers"]).unwrap().seq()[0];
        assert_eq!((c.line, c.col), (5, 5));
        let k = c.path_key(&["securityContext", "privileged"]).unwrap();
        assert_eq!((k.line, k.col), (7, 7));
        assert_eq!(
            c.path(&["securityContext", "privileged"])
                .unwrap()
                .as_bool(),
            Some(true)
        );
        assert_eq!(docs[1].get("kind").unwrap().line, 9);
        assert_eq!(
            c.deepest_key(&["securityContext", "runAsNonRoot"])
                .unwrap()
                .line,
            6
        );
    }

    #[test]
    fn crlf_and_byte_order_mark() {
        let docs =
            load_stream("\u{feff}apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  hostPID: true\r\n")
                .unwrap();
        let k = docs[0].path_key(&["spec", "hostPID"]).unwrap();
        assert_eq!((k.line, k.col), (4, 3));
        assert_eq!(docs[0].get("kind").unwrap().as_str(), Some("Pod"));
    }

    #[test]
    fn json_and_tabs() {
        let docs =
            load_stream("{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"hostPID\": true}\n}\n").unwrap();
        let k = docs[0].path_key(&["spec", "hostPID"]).unwrap();
        assert_eq!(k.line, 3);
        assert_eq!(
            docs[0].path(&["spec", "hostPID"]).unwrap().as_bool(),
            Some(true)
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let docs = load_stream("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n").unwrap();
        let x = docs[0].get("x").unwrap();
        assert_eq!(x.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(x.get("b").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn billion_laughs_is_refused_with_a_line() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, next) = (w[0], w[1]);
            text.push_str(&format!(
                "{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        let err = load_stream(&text).unwrap_err();
        assert!(err.message.contains("billion laughs"), "{err:?}");
        assert!((5..=9).contains(&err.line), "{err:?}");
    }

    #[test]
    fn deep_nesting_and_invalid_yaml_are_errors() {
        // Deep flow nesting trips the parser's own recursion limit; deep balanced nesting
        // within it trips ours.
        let err = load_stream(&"[".repeat(10_000)).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{err:?}");
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        match load_stream(&deep) {
            Err(err) => assert!(
                err.message.contains("nested") || err.message.contains("recursion"),
                "{err:?}"
            ),
            Ok(_) => panic!("{} levels accepted", MAX_DEPTH + 1),
        }
        // Block nesting by indentation, and by sequence dashes, is bounded too.
        let indented: String = (0..1_000)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(load_stream(&indented).is_err());
        assert!(load_stream(&"- ".repeat(5_000)).is_err());
        let err = load_stream("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
        assert!(err.line >= 2, "{err:?}");
    }

    /// Issue 13.5: 120 nested anchors around a 20,000-item list, no alias (1.96 GB before:
    /// every anchored node was deep-cloned). Anchors now share the tree; the whole document
    /// is held once.
    #[test]
    fn issue_13_5_nested_anchors_are_not_copied() {
        let mut text = String::new();
        for i in 0..120 {
            text.push_str(&format!("{}k{i}: &a{i}\n", "  ".repeat(i)));
        }
        let items: Vec<String> = (0..20_000).map(|i| format!("item-{i}")).collect();
        text.push_str(&format!(
            "{}list: [{}]\n",
            "  ".repeat(120),
            items.join(", ")
        ));
        let start = std::time::Instant::now();
        let docs = load_stream(&text).unwrap();
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
        let mut node = &docs[0];
        for i in 0..120 {
            node = node.get(&format!("k{i}")).unwrap();
        }
        assert_eq!(node.get("list").unwrap().seq().len(), 20_000);

        // An alias shares what it names instead of copying it, and still counts as a copy
        // against the alias budget.
        let docs = load_stream("a: &a [1, 2, 3]\nb: *a\n").unwrap();
        match (
            &docs[0].get("a").unwrap().value,
            &docs[0].get("b").unwrap().value,
        ) {
            (Value::Seq(a), Value::Seq(b)) => assert!(Arc::ptr_eq(a, b)),
            other => panic!("{other:?}"),
        }
        let list = format!("a: &a [{}]\n", items[..10_000].join(", "));
        let over = format!("{list}b: [{}]\n", ["*a"; 11].join(", "));
        let err = load_stream(&over).unwrap_err();
        assert!(err.message.contains("billion laughs"), "{err:?}");
        // Large scalars count by their bytes.
        let big = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(1 << 20),
            ["*a"; 17].join(", ")
        );
        let err = load_stream(&big).unwrap_err();
        assert!(err.message.contains("bytes"), "{err:?}");
    }

    /// Issue 13.6: `{<<: {300,000 keys}}` took over a minute (each merged key was looked up in
    /// a list of the keys before it). Now a set: near-linear.
    #[test]
    fn issue_13_6_a_huge_merge_is_near_linear() {
        let keys: Vec<String> = (0..300_000).map(|i| format!("k{i}: {i}")).collect();
        // The parser alone takes seconds on a busy machine: compare with loading the same
        // keys without the merge (quadratic was 20x that and more).
        let plain = format!("{{{}}}\n", keys.join(", "));
        let start = std::time::Instant::now();
        load_stream(&plain).unwrap();
        let bound = start.elapsed() * 3 + std::time::Duration::from_secs(2);
        let text = format!("{{<<: {{{}}}, k7: explicit}}\n", keys.join(", "));
        let start = std::time::Instant::now();
        let docs = load_stream(&text).unwrap();
        assert!(start.elapsed() < bound, "{:?} > {bound:?}", start.elapsed());
        assert_eq!(docs[0].map().len(), 300_000);
        assert_eq!(docs[0].get("k7").unwrap().as_str(), Some("explicit"));
        assert_eq!(docs[0].get("k299999").unwrap().as_i64(), Some(299_999));
    }
}
